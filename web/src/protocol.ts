// The signaling protocol, version 1 (docs/protocol.md), as TypeScript types. The server is
// the authority: these describe what it sends and what it accepts, nothing more. Unknown
// fields may appear in anything the server sends (later versions add them).

export const PROTOCOL_VERSION = 1;

export type TrackKind = 'audio' | 'video';
export type TrackSource = 'microphone' | 'camera' | 'screen';
export type Quality = 'off' | 'low' | 'medium' | 'high';

export interface Track {
  id: string;
  participant: string;
  kind: TrackKind;
  source: TrackSource;
  muted: boolean;
  /** Simulcast layers the publisher sends (1 without simulcast). */
  layers: number;
}

export type Role = 'host' | 'cohost' | 'participant';

export interface Participant {
  id: string;
  name: string;
  tracks: Track[];
  speaking: boolean;
  /** Issue 7; absent from older servers (treated as participant). */
  role?: Role;
  signed_in?: boolean;
  /** Signed in: the account, and the E2EE identity keys it published (base64url). */
  account?: number;
  device_keys?: string[];
}

/** A meeting's settings (docs/protocol.md, "Meeting settings"). */
export interface Settings {
  waiting_room: boolean;
  join_before_host: boolean;
  members_skip_waiting: boolean;
  locked: boolean;
  screen_share: 'everyone' | 'hosts';
  unmute_self: boolean;
  chat: boolean;
  rename_self: boolean;
  authenticated_only: boolean;
  allowed_domains: string[];
  /** End-to-end encryption (docs/e2ee.md); fixed while the meeting runs. */
  e2ee: boolean;
}

/** Someone in the waiting room, as hosts and co-hosts see them. */
export interface Waiting {
  id: string;
  name: string;
  signed_in: boolean;
  since: number;
}

// ---- Requests: type → fields sent and result received. ----

export interface PublishTrack {
  mid: string;
  kind: TrackKind;
  source: TrackSource;
  muted: boolean;
}

export interface JoinResult {
  participant: Participant;
  reconnect_token: string;
  resumed: boolean;
  meeting: string;
  roster: Participant[];
  last_n: number;
  state?: 'admitted' | 'waiting';
  waiting_reason?: 'host_admits' | 'host_absent';
  role?: Role;
  settings?: Settings | null;
  spotlight?: string | null;
  waiting?: Waiting[];
}

type Empty = Record<string, never>;
type Done = Record<string, never>;

export interface Requests {
  join: {
    fields: {
      protocol: number;
      meeting: string;
      name: string;
      reconnect?: string;
      passcode?: string;
      host_key?: string;
      device?: string;
    };
    result: JoinResult;
  };
  publish: {
    fields: { sdp: string; tracks: PublishTrack[] };
    result: { sdp: string; tracks: { mid: string; id: string }[] };
  };
  unpublish: { fields: { track: string }; result: Record<string, never> };
  mute: { fields: { track: string; muted: boolean }; result: Record<string, never> };
  subscribe: {
    fields: { track: string; quality: Quality; width?: number; height?: number };
    result: Record<string, never>;
  };
  unsubscribe: { fields: { track: string }; result: Record<string, never> };
  subscribe_answer: { fields: { version: number; sdp: string }; result: Record<string, never> };
  ice_restart: {
    fields: { pc: 'subscribe'; reset: boolean };
    result: Record<string, never>;
  };
  relay: {
    fields: { to: string | null; data: unknown; kind?: string } | { each: Record<string, unknown>; kind?: string };
    result: { skipped?: string[] };
  };
  leave: { fields: Record<string, never>; result: Record<string, never> };
  // Host requests (docs/protocol.md, "Host requests").
  admit: { fields: { participant: string }; result: Done };
  deny: { fields: { participant: string }; result: Done };
  remove: { fields: { participant: string; ban: boolean }; result: Done };
  mute_participant: { fields: { participant: string }; result: Done };
  mute_all: { fields: Empty; result: Done };
  ask_unmute: { fields: { participant: string }; result: Done };
  stop_video: { fields: { participant: string }; result: Done };
  spotlight: { fields: { participant: string | null }; result: Done };
  set_settings: { fields: { settings: Partial<Settings> }; result: Done };
  set_role: { fields: { participant: string; role: 'cohost' | 'participant' }; result: Done };
  transfer_host: { fields: { participant: string }; result: Done };
  end_meeting: { fields: Empty; result: Done };
  rename: { fields: { name: string }; result: Done };
}

export type RequestType = keyof Requests;

// ---- Events pushed by the server. ----

export interface SubscribeOfferTrack {
  mid: string;
  track: string;
  participant: string;
  kind: TrackKind;
  source: TrackSource;
}

export type LeaveReason = 'left' | 'disconnected' | 'timeout' | 'removed';
export type ClosingReason = 'replaced' | 'removed' | 'denied' | 'meeting_ended' | 'server_shutdown';

export interface ServerEvents {
  participant_joined: { participant: Participant };
  participant_left: { participant: string; reason: LeaveReason };
  track_published: { track: Track };
  track_unpublished: { participant: string; track: string };
  track_muted: { participant: string; track: string; muted: boolean };
  speaking: { dominant: string | null; speaking: string[] };
  subscribe_offer: { version: number; sdp: string; tracks: SubscribeOfferTrack[] };
  layer: { track: string; layer: number; reason: 'bandwidth' | 'requested' | 'last_n' | 'publisher' };
  relay: { from: string; data: unknown };
  closing: { reason: ClosingReason };
  connection_lost: { pc: 'publish' | 'subscribe' };
  admitted: {
    role: Role;
    settings: Settings;
    spotlight: string | null;
    roster: Participant[];
    waiting?: Waiting[];
    meeting: string;
  };
  denied: Record<string, never>;
  waiting_changed: { waiting: Waiting[] };
  role_changed: { participant: string; role: Role };
  settings_changed: { settings: Settings; by: string | null };
  muted_by_host: { track: string | null; by: string };
  unmute_requested: { by: string };
  video_stopped: { track: string; by: string };
  spotlight: { participant: string | null; by: string | null };
  participant_renamed: { participant: string; name: string };
}

export type ServerEventName = keyof ServerEvents;

/** Error codes of docs/protocol.md, plus the client's own (timeout, not_connected, disconnected). */
export type ErrorCode =
  | 'bad_json'
  | 'bad_request'
  | 'unknown_type'
  | 'unsupported_protocol'
  | 'not_joined'
  | 'already_joined'
  | 'no_such_meeting'
  | 'meeting_full'
  | 'reconnect_expired'
  | 'bad_sdp'
  | 'unknown_track'
  | 'unknown_participant'
  | 'stale_offer'
  | 'too_large'
  | 'rate_limited'
  | 'forbidden'
  | 'locked'
  | 'too_many_attempts'
  | 'draining'
  | 'internal'
  // client side
  | 'timeout'
  | 'not_connected'
  | 'disconnected';
