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

export interface Participant {
  id: string;
  name: string;
  tracks: Track[];
  speaking: boolean;
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
}

export interface Requests {
  join: {
    fields: { protocol: number; meeting: string; name: string; reconnect?: string };
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
  relay: { fields: { to: string | null; data: unknown }; result: Record<string, never> };
  leave: { fields: Record<string, never>; result: Record<string, never> };
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
export type ClosingReason = 'replaced' | 'removed' | 'meeting_ended' | 'server_shutdown';

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
  | 'draining'
  | 'internal'
  // client side
  | 'timeout'
  | 'not_connected'
  | 'disconnected';
