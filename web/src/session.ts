// A meeting as the browser takes part in it, without any UI: the signaling connection,
// the two peer connections (publish: we offer and send; subscribe: the server offers and
// we receive, docs/protocol.md), who is there, and reconnecting. The UI reads a snapshot
// (getState) and is told when it changes (subscribe); it acts through the methods.
//
// Choices worth knowing:
// - Camera off stops the camera (the light goes out) and sends nothing: the sender's
//   track is replaced by null, the transceiver stays, and turning it on asks for the
//   camera again and puts the new track in with replaceTrack (no renegotiation).
//   Microphone mute only disables the track (it sends silence), so unmuting is instant.
// - Changing the camera or microphone during the call swaps the track in the existing
//   sender (replaceTrack): no renegotiation, the simulcast encodings stay. A device that
//   ends while in use (unplugged) is replaced by the default one of its kind.
// - The pre-join preview's tracks are handed over with adoptLocalTracks, so that joining
//   neither asks again nor restarts the camera.
// - Publish renegotiations run one at a time; asking while one runs queues exactly one
//   more, which sends whatever the state is by then.
// - Subscribe offers are answered strictly in the order they arrive.
import {
  PROTOCOL_VERSION,
  type JoinResult,
  type Participant,
  type Requests,
  type Role,
  type ServerEvents,
  type Settings,
  type Waiting,
  type SubscribeOfferTrack,
  type Track,
  type TrackKind,
  type TrackSource,
} from './protocol';
import { SignalingClient, SignalingError, type Disconnected } from './signaling';
import { applyRosterEvent, emptyRoster, remoteTrackIndex, rosterFromJoin, type Roster } from './roster';
import {
  CAMERA_ENCODINGS,
  SCREEN_ENCODINGS,
  backoffDelay,
  classifyMediaError,
  getLocalMedia,
  openReplacement,
  preferCodecs,
  trackDeviceId,
  sizeChangedNoticeably,
  type DeviceIds,
  type DeviceProblem,
  type Size,
} from './media';
import { E2EE_OFF, E2eeManager, transformApi, type E2eeView } from './e2ee/manager';
import { addDevice } from './api';

export type Phase = 'idle' | 'joining' | 'waiting' | 'joined' | 'reconnecting' | 'left' | 'error';

/** Why we are no longer in the meeting (phase `left`) or could not get in (`error`). */
export type EndReason =
  | 'left' // we pressed Leave
  | 'replaced' // the same participant was taken over by another connection (tab)
  | 'removed'
  | 'denied' // a host turned us away from the waiting room
  | 'meeting_ended'
  | 'connection_lost' // reconnecting gave up
  | 'join_failed' // see `error`
  | 'e2ee_unsupported'; // an E2EE meeting, and this browser has no encoded transforms

export interface LocalState {
  microphone: MediaStreamTrack | null;
  camera: MediaStreamTrack | null;
  screen: MediaStreamTrack | null;
  micMuted: boolean;
  cameraOff: boolean;
  /** Server ids of our published tracks, by source, once a publish has answered. */
  trackIds: Readonly<Partial<Record<TrackSource, string>>>;
  audioProblem: DeviceProblem | null;
  videoProblem: DeviceProblem | null;
  screenProblem: DeviceProblem | null;
  /** Device ids: of the microphone and camera in use (track.getSettings()), or when there
   *  is no track (camera off), the one chosen for when it comes on; the chosen speaker.
   *  null: the system default. */
  devices: LocalDevices;
}

export interface LocalDevices {
  microphone: string | null;
  camera: string | null;
  speaker: string | null;
}

/** What adoptLocalTracks takes over: the pre-join preview's tracks and choices. */
export interface AdoptedLocalTracks {
  microphone: MediaStreamTrack | null;
  camera: MediaStreamTrack | null;
  micMuted: boolean;
  /** The camera is off: a camera track given anyway is stopped. */
  cameraOff: boolean;
  audioProblem?: DeviceProblem | null;
  videoProblem?: DeviceProblem | null;
  /** The chosen devices (null: the system default), used when a device is asked for
   *  again (unmuting without a microphone, turning the camera on). */
  choices?: DeviceIds;
}

type DeviceSource = 'microphone' | 'camera';

export interface MeetingState {
  phase: Phase;
  meetingId: string | null;
  /** Ourselves, as the server knows us (id and the name after its trimming). */
  self: Participant | null;
  /** The others, by id, in joining order. */
  participants: ReadonlyMap<string, Participant>;
  /** Every remote track, by id (from the participants). */
  tracks: ReadonlyMap<string, Track>;
  /** Who is speaking now (may include our own id) and the dominant speaker. */
  speaking: ReadonlySet<string>;
  dominant: string | null;
  /** The media of remote tracks we receive, by track id. */
  remoteTracks: ReadonlyMap<string, MediaStreamTrack>;
  /** What the server forwards of each remote video track (0 lowest … 2; -1 paused). */
  layers: ReadonlyMap<string, number>;
  local: LocalState;
  /** While reconnecting: attempts so far and when the connection dropped (ms epoch). */
  reconnect: { attempt: number; since: number } | null;
  ended: EndReason | null;
  /** The last failure worth telling the person about (join refused, publish failed, ...). */
  error: { code: string; message: string; retryAfter?: number } | null;
  // Meeting security (issue 7).
  /** Our role; 'participant' until the server says otherwise. */
  role: Role;
  /** The meeting's settings (null while waiting). */
  settings: Settings | null;
  /** Who waits to be admitted (hosts and co-hosts only; empty for others). */
  waiting: readonly Waiting[];
  /** Why we wait (phase 'waiting'). */
  waitingReason: 'host_admits' | 'host_absent' | null;
  spotlight: string | null;
  /** A host muted our microphone: unmuting needs unmute_self or a host's request. */
  hostMuted: boolean;
  /** A host asked us to unmute (and so allows it). */
  unmuteRequested: boolean;
  /** Things that happened to tell the person about, newest last (at most 5). */
  notices: readonly Notice[];
  /** End-to-end encryption: the security code, key holders, what fails to decrypt. */
  e2ee: E2eeView;
  /** Remote tracks whose frames do not decrypt now, by track id: 'no_key' (waiting for
   *  the sender's key) or 'authentication' (cannot decrypt). Absent: fine. */
  decrypt: ReadonlyMap<string, 'no_key' | 'authentication'>;
}

/** Something to announce: what happened and who did it (a participant id, or null). */
export interface Notice {
  seq: number;
  kind:
    | 'locked'
    | 'unlocked'
    | 'removed'
    | 'muted_by_host'
    | 'unmute_requested'
    | 'video_stopped'
    | 'chat_off'
    | 'chat_on'
    | 'share_hosts'
    | 'role'
    | 'waiting'
    | 'screen_stopped'
    | 'cannot_unmute'
    | 'share_blocked';
  /** The participant it is about (removed, role), or the one waiting. */
  subject?: string;
  name?: string;
  role?: Role;
}

/** Whether our microphone may be unmuted now: a host's mute forbids it while the meeting
 *  does not let participants unmute themselves and no host asked us to (pure). */
export function mayUnmute(s: Pick<MeetingState, 'hostMuted' | 'unmuteRequested' | 'role' | 'settings'>): boolean {
  if (!s.hostMuted || s.unmuteRequested || s.role !== 'participant') return true;
  return s.settings?.unmute_self ?? true;
}

/** What a join needs besides the meeting id and name (docs/protocol.md, "Joining"). */
export interface JoinCredentials {
  passcode?: string;
  hostKey?: string;
  device?: string;
}

export interface SessionOptions {
  /** Makes the signaling client (tests and the E2EE issue may wrap it). */
  createSignaling?: () => SignalingClient;
  /** Extra RTCConfiguration for both peer connections. */
  rtcConfig?: RTCConfiguration;
  /** How long to keep trying to reconnect before giving up (ms). */
  reconnectWindowMs?: number;
  /** Debounce of tile-size updates (ms). */
  viewDebounceMs?: number;
}

/** The requests a host or co-host makes about others (docs/protocol.md, "Host requests"). */
export type HostRequest =
  | 'admit'
  | 'deny'
  | 'remove'
  | 'mute_participant'
  | 'mute_all'
  | 'ask_unmute'
  | 'stop_video'
  | 'spotlight'
  | 'set_settings'
  | 'set_role'
  | 'transfer_host'
  | 'end_meeting';

type Listener = (s: MeetingState) => void;
type RelayHandler = (from: string, data: unknown) => void;

const FATAL_JOIN_ERRORS = new Set([
  'no_such_meeting',
  'meeting_full',
  'forbidden',
  'locked',
  'unsupported_protocol',
  'bad_request',
]);

const initialLocal: LocalState = {
  microphone: null,
  camera: null,
  screen: null,
  micMuted: false,
  cameraOff: false,
  trackIds: {},
  audioProblem: null,
  videoProblem: null,
  screenProblem: null,
  devices: { microphone: null, camera: null, speaker: null },
};

function errorOf(e: unknown): { code: string; message: string; retryAfter?: number } {
  if (e instanceof SignalingError) return { code: e.code, message: e.message, retryAfter: e.retryAfter };
  if (e instanceof Error) return { code: 'internal', message: `${e.name}: ${e.message}` };
  return { code: 'internal', message: String(e) };
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

function kindOf(source: TrackSource): TrackKind {
  return source === 'microphone' ? 'audio' : 'video';
}

function isStopped(t: RTCRtpTransceiver): boolean {
  return t.currentDirection === 'stopped' || (t.direction as string) === 'stopped';
}

export class MeetingSession {
  private state: MeetingState = {
    phase: 'idle',
    meetingId: null,
    self: null,
    participants: emptyRoster.participants,
    tracks: new Map(),
    speaking: emptyRoster.speaking,
    dominant: null,
    remoteTracks: new Map(),
    layers: new Map(),
    local: initialLocal,
    reconnect: null,
    ended: null,
    error: null,
    role: 'participant',
    settings: null,
    waiting: [],
    waitingReason: null,
    spotlight: null,
    hostMuted: false,
    unmuteRequested: false,
    notices: [],
    e2ee: E2EE_OFF,
    decrypt: new Map(),
  };
  private roster: Roster = emptyRoster;
  private creds: JoinCredentials = {};
  private noticeSeq = 0;
  private readonly listeners = new Set<Listener>();
  private readonly relayHandlers = new Set<RelayHandler>();
  private readonly opts: Required<Omit<SessionOptions, 'rtcConfig'>> & { rtcConfig: RTCConfiguration };

  private sig: SignalingClient | null = null;
  private token: string | null = null;
  private name = '';
  private closingReason: string | null = null;
  private reconnectRun = 0;

  // Media connections; `generation` changes whenever they are replaced or closed, so
  // that work started for old ones drops out.
  private pub: RTCPeerConnection | null = null;
  /** E2EE of this participant (null: not joined, or the meeting is not E2EE). */
  private e2ee: E2eeManager | null = null;
  private readonly transforms = transformApi();
  private readonly attached = new WeakSet<RTCRtpSender | RTCRtpReceiver>();
  private sub: RTCPeerConnection | null = null;
  private generation = 0;

  // Publish side.
  private readonly tx = new Map<TrackSource, RTCRtpTransceiver>();
  private readonly announcedMuted = new Map<TrackSource, boolean>();
  private pubRunning: Promise<void> | null = null;
  private pubDirty = false;
  private pubIceRestart = false;
  /** A publish could not be sent (disconnected): send one after resuming. */
  private pubOwed = false;
  private cameraSeq = 0;
  private micSeq = 0;
  /** The devices chosen by the person (null: system default), for every later request. */
  private chosen: { microphone: string | null; camera: string | null } = { microphone: null, camera: null };
  private speaker: string | null = null;

  // Subscribe side.
  private subQueue: Promise<void> = Promise.resolve();
  private subTracks = new Map<string, SubscribeOfferTrack>(); // by mid, from the latest offer
  private subVersion = -1;
  private unsentAnswer: { version: number; sdp: string } | null = null;

  // Tile sizes asked for, and what the server was last told, by remote track id (null: off).
  private readonly viewWanted = new Map<string, Size | null>();
  private readonly viewSent = new Map<string, Size | null>();
  private viewTimer: ReturnType<typeof setTimeout> | null = null;

  constructor(options: SessionOptions = {}) {
    this.opts = {
      createSignaling: options.createSignaling ?? (() => new SignalingClient()),
      rtcConfig: options.rtcConfig ?? {},
      reconnectWindowMs: options.reconnectWindowMs ?? 60_000,
      viewDebounceMs: options.viewDebounceMs ?? 300,
    };
  }

  // ---------------------------------------------------------------- state

  getState(): MeetingState {
    return this.state;
  }

  /** Calls `listener` with every new state; returns the function that stops it. */
  subscribe(listener: Listener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** The publish connection (we send), or null outside a meeting. For getStats(). */
  get publishPc(): RTCPeerConnection | null {
    return this.pub;
  }

  /** The subscribe connection (we receive), or null outside a meeting. */
  get subscribePc(): RTCPeerConnection | null {
    return this.sub;
  }

  private set(patch: Partial<MeetingState>): void {
    this.state = { ...this.state, ...patch };
    for (const l of [...this.listeners]) l(this.state);
  }

  private setLocal(patch: Partial<LocalState>): void {
    const local = { ...this.state.local, ...patch };
    local.devices = this.devicesOf(local);
    this.set({ local });
  }

  private devicesOf(l: LocalState): LocalDevices {
    const microphone = l.microphone ? (trackDeviceId(l.microphone) ?? this.chosen.microphone) : this.chosen.microphone;
    const camera = l.camera ? (trackDeviceId(l.camera) ?? this.chosen.camera) : this.chosen.camera;
    const d = l.devices;
    if (d.microphone === microphone && d.camera === camera && d.speaker === this.speaker) return d;
    return { microphone, camera, speaker: this.speaker };
  }

  private setRoster(r: Roster): void {
    if (r === this.roster) return;
    const tracksChanged = r.participants !== this.roster.participants;
    this.roster = r;
    this.set({
      participants: r.participants,
      speaking: r.speaking,
      dominant: r.dominant,
      ...(tracksChanged ? { tracks: remoteTrackIndex(r) } : {}),
    });
    if (tracksChanged) this.forgetGoneViews();
  }

  // ---------------------------------------------------------------- devices

  /** Gets the microphone and/or camera. What fails is recorded in local.audioProblem /
   *  videoProblem and not thrown: joining without a device is allowed. `devices` pins
   *  chosen devices (a gone one falls back to the default) and is remembered for later
   *  requests; without it the last choice applies. */
  async startDevices(
    want: { audio: boolean; video: boolean } = { audio: true, video: true },
    devices?: DeviceIds,
  ): Promise<void> {
    if (devices) this.choose(devices);
    const m = await getLocalMedia(
      {
        audio: want.audio && !this.state.local.microphone,
        video: want.video && !this.state.local.camera,
      },
      this.chosen,
    );
    const l = this.state.local;
    if (m.audio) m.audio.enabled = !l.micMuted;
    if (m.audio && !l.microphone) this.watchDevice('microphone', m.audio);
    if (m.video && !l.camera) this.watchDevice('camera', m.video);
    this.setLocal({
      microphone: l.microphone ?? m.audio,
      camera: l.camera ?? m.video,
      cameraOff: l.camera || m.video ? false : l.cameraOff,
      audioProblem: m.audio || l.microphone ? null : (m.audioProblem ?? l.audioProblem),
      videoProblem: m.video || l.camera ? null : (m.videoProblem ?? l.videoProblem),
    });
    if (this.state.phase === 'joined' && this.ensureTransceivers()) void this.negotiatePublishSafe();
  }

  private choose(ids: DeviceIds): void {
    if (ids.microphone !== undefined) this.chosen.microphone = ids.microphone || null;
    if (ids.camera !== undefined) this.chosen.camera = ids.camera || null;
  }

  /**
   * Takes over tracks got before joining (the pre-join preview), instead of startDevices:
   * joining then publishes them as they are. Only outside a meeting. From here on the
   * session stops them (leave, camera off, device switch), not the caller.
   */
  adoptLocalTracks(m: AdoptedLocalTracks): void {
    const phase = this.state.phase;
    if (phase === 'joining' || phase === 'joined' || phase === 'reconnecting') {
      throw new Error(`adoptLocalTracks while ${phase}`);
    }
    const live = (t: MediaStreamTrack | null) => (t && t.readyState === 'live' ? t : null);
    const l = this.state.local;
    let camera = live(m.camera);
    const microphone = live(m.microphone);
    if (m.cameraOff && camera) {
      camera.stop();
      camera = null;
    }
    if (l.microphone && l.microphone !== microphone) l.microphone.stop();
    if (l.camera && l.camera !== camera) l.camera.stop();
    this.micSeq++;
    this.cameraSeq++;
    this.chosen = { microphone: null, camera: null };
    if (m.choices) this.choose(m.choices);
    if (microphone) {
      microphone.enabled = !m.micMuted;
      this.watchDevice('microphone', microphone);
    }
    if (camera) this.watchDevice('camera', camera);
    this.setLocal({
      microphone,
      camera,
      micMuted: m.micMuted,
      cameraOff: m.cameraOff,
      audioProblem: microphone ? null : (m.audioProblem ?? null),
      videoProblem: camera || m.cameraOff ? null : (m.videoProblem ?? null),
    });
  }

  /**
   * Changes the microphone (null: the system default). In a meeting the new track goes
   * into the existing sender; mute stays as it was. The old device is released once the
   * new one is in place. Resolves the problem when the new device could not be used (the
   * old one then stays in use), else null.
   */
  switchMicrophone(deviceId: string | null): Promise<DeviceProblem | null> {
    return this.switchDevice('microphone', deviceId || null);
  }

  /** Changes the camera (see switchMicrophone). With the camera off the choice is only
   *  remembered, for when it is turned on: the light stays off. */
  switchCamera(deviceId: string | null): Promise<DeviceProblem | null> {
    return this.switchDevice('camera', deviceId || null);
  }

  /** Remembers the speaker (null: system default) in local.devices.speaker; the elements
   *  that play remote audio apply it (devices.ts applySink). */
  setSpeaker(deviceId: string | null): void {
    this.speaker = deviceId || null;
    this.setLocal({});
  }

  private nextSeq(source: DeviceSource): number {
    return source === 'camera' ? ++this.cameraSeq : ++this.micSeq;
  }

  private isCurrent(source: DeviceSource, seq: number): boolean {
    const phase = this.state.phase;
    return (source === 'camera' ? this.cameraSeq : this.micSeq) === seq && phase !== 'left' && phase !== 'error';
  }

  private async switchDevice(source: DeviceSource, deviceId: string | null): Promise<DeviceProblem | null> {
    const before = this.chosen[source];
    this.chosen[source] = deviceId;
    const l = this.state.local;
    const old = l[source];
    // Chromium's default microphone reports the id "default": the same as no choice.
    const inUse = trackDeviceId(old);
    const same = inUse !== null && (inUse === deviceId || (deviceId === null && inUse === 'default'));
    if ((source === 'camera' && l.cameraOff) || same) {
      this.setLocal({});
      return null;
    }
    const seq = this.nextSeq(source);
    const r = await openReplacement(source, deviceId, old);
    const track = r.track ?? r.fallback;
    if (!this.isCurrent(source, seq) || (source === 'camera' && this.state.local.cameraOff)) {
      track?.stop();
      return null;
    }
    if (!r.track) this.chosen[source] = r.fallback ? before : deviceId;
    if (track) {
      await this.installTrack(source, track, old);
    } else if (old && old.readyState !== 'live') {
      // The old device had to be stopped for the new one (phones) and neither came back.
      await this.dropTrack(source, r.problem ?? 'failed');
    } else {
      this.setLocal({});
    }
    return r.track ? null : (r.problem ?? 'failed');
  }

  /** Puts `track` in place of `old`: in the local state, and in the sender if there is
   *  one (replaceTrack, no renegotiation) or a new transceiver if not; then stops `old`. */
  private async installTrack(source: DeviceSource, track: MediaStreamTrack, old: MediaStreamTrack | null): Promise<void> {
    if (source === 'microphone') track.enabled = !this.state.local.micMuted;
    this.watchDevice(source, track);
    this.setLocal(source === 'microphone' ? { microphone: track, audioProblem: null } : { camera: track, videoProblem: null });
    const tx = this.tx.get(source);
    if (tx && !isStopped(tx)) {
      await tx.sender.replaceTrack(track).catch(() => {});
    } else if (this.state.phase === 'joined' && this.ensureTransceivers()) {
      await this.negotiatePublishSafe();
    }
    if (old && old !== track) old.stop();
    await this.syncMute(source);
  }

  /** No device of this kind any more: nothing is sent, the others are told it is muted,
   *  and the UI's notice says why. */
  private async dropTrack(source: DeviceSource, problem: DeviceProblem): Promise<void> {
    const old = this.state.local[source];
    this.setLocal(source === 'microphone' ? { microphone: null, audioProblem: problem } : { camera: null, videoProblem: problem });
    const tx = this.tx.get(source);
    if (tx && !isStopped(tx)) await tx.sender.replaceTrack(null).catch(() => {});
    old?.stop();
    await this.syncMute(source);
  }

  private watchDevice(source: DeviceSource, track: MediaStreamTrack): void {
    track.addEventListener('ended', () => void this.onDeviceEnded(source, track), { once: true });
  }

  /** A device in use ended by itself (unplugged, permission revoked, driver gone): the
   *  default device of that kind takes its place, or the problem is said. */
  private async onDeviceEnded(source: DeviceSource, track: MediaStreamTrack): Promise<void> {
    if (this.state.local[source] !== track) return;
    track.stop();
    this.chosen[source] = null; // gone: the system default from now on
    const seq = this.nextSeq(source);
    const m = await getLocalMedia({ audio: source === 'microphone', video: source === 'camera' });
    const fresh = m.audio ?? m.video;
    if (!this.isCurrent(source, seq) || this.state.local[source] !== track) {
      fresh?.stop();
      return;
    }
    if (fresh) await this.installTrack(source, fresh, track);
    else await this.dropTrack(source, m.audioProblem ?? m.videoProblem ?? 'not_found');
  }

  // ---------------------------------------------------------------- join and leave

  /** Joins `meetingId` as `name` and publishes whatever devices startDevices got. Rejects
   *  (and leaves phase `error`) when the server refuses or cannot be reached. */
  async join(meetingId: string, name: string, creds: JoinCredentials = {}): Promise<void> {
    const phase = this.state.phase;
    if (phase === 'joining' || phase === 'joined' || phase === 'waiting' || phase === 'reconnecting') {
      throw new Error(`join while ${phase}`);
    }
    this.name = name.trim();
    this.creds = creds;
    this.closingReason = null;
    this.token = null;
    this.set({ phase: 'joining', meetingId, ended: null, error: null, reconnect: null });
    this.resetMedia();
    let sig: SignalingClient | null = null;
    try {
      sig = await this.openSignaling();
      const res = await sig.request('join', this.joinFields(meetingId));
      if (this.sig !== sig) throw new SignalingError('disconnected', 'left while joining');
      this.applyJoin(res);
      if (this.state.phase === 'waiting') return; // media starts when admitted
    } catch (e) {
      if (this.sig === sig) this.sig = null;
      sig?.close();
      if (this.state.phase === 'joining') {
        this.closeMedia();
        // Not in a meeting: the camera and microphone are released (a retry asks again).
        this.stopLocalTracks();
        this.set({ phase: 'error', ended: 'join_failed', error: errorOf(e) });
      }
      throw e;
    }
    this.afterFreshJoin();
  }

  /** Leaves: tells the server (briefly waiting for its reply), closes both peer
   *  connections and stops every local track. Safe to call in any phase. */
  async leave(): Promise<void> {
    const phase = this.state.phase;
    const sig = this.sig;
    this.sig = null;
    this.reconnectRun++;
    if (phase !== 'idle' && phase !== 'left') {
      this.set({ phase: 'left', ended: 'left', reconnect: null });
    }
    this.closeMedia();
    this.stopLocalTracks();
    this.stopE2ee();
    if (sig?.connected) {
      await Promise.race([sig.request('leave').catch(() => {}), sleep(2000)]);
    }
    sig?.close(1000);
  }

  private joinFields(meeting: string, reconnect?: string) {
    return {
      protocol: PROTOCOL_VERSION,
      meeting,
      name: this.name,
      ...(reconnect ? { reconnect } : {}),
      ...(this.creds.passcode ? { passcode: this.creds.passcode } : {}),
      ...(this.creds.hostKey ? { host_key: this.creds.hostKey } : {}),
      ...(this.creds.device ? { device: this.creds.device } : {}),
    };
  }

  private applyJoin(res: JoinResult): void {
    this.token = res.reconnect_token;
    this.roster = emptyRoster;
    this.setRoster(rosterFromJoin(res.roster, res.participant.id));
    const waiting = res.state === 'waiting';
    this.set({
      phase: waiting ? 'waiting' : 'joined',
      self: res.participant,
      meetingId: res.meeting,
      reconnect: null,
      error: null,
      role: res.role ?? 'participant',
      settings: res.settings ?? null,
      waiting: res.waiting ?? [],
      waitingReason: waiting ? (res.waiting_reason ?? 'host_admits') : null,
      spotlight: res.spotlight ?? null,
    });
  }

  /** Adds a notice (also used by the UI to explain a control that does not work now). */
  notify(n: Omit<Notice, 'seq'>): void {
    const notices = [...this.state.notices, { ...n, seq: ++this.noticeSeq }].slice(-5);
    this.set({ notices });
  }

  /** A host request (docs/protocol.md, "Host requests"); rejects with the server's error. */
  async hostRequest<K extends HostRequest>(type: K, fields: Requests[K]['fields']): Promise<void> {
    if (!this.sig) throw new SignalingError('not_connected', 'not in a meeting');
    await this.sig.request(type, fields);
  }

  /** Changes our display name (`rename`); the roster hears of it from the server. */
  async rename(name: string): Promise<void> {
    if (!this.sig) throw new SignalingError('not_connected', 'not in a meeting');
    await this.sig.request('rename', { name });
    this.name = name.trim();
  }

  /** Whether the microphone may be unmuted now (a host's mute may forbid it). */
  canUnmute(): boolean {
    return mayUnmute(this.state);
  }

  /** Sets up (or keeps) E2EE for the participant we are now. False when the meeting is
   *  E2EE and this browser cannot take part: we leave, and say why. */
  private ensureE2ee(): boolean {
    const self = this.state.self?.id;
    const wanted = this.state.settings?.e2ee !== false;
    if (!wanted || !self) {
      this.stopE2ee();
      return true;
    }
    if (this.e2ee?.self === self) return true;
    this.stopE2ee();
    if (!this.transforms) {
      const sig = this.sig;
      this.sig = null;
      this.closeMedia();
      this.stopLocalTracks();
      this.set({
        phase: 'error',
        ended: 'e2ee_unsupported',
        error: { code: 'e2ee_unsupported', message: 'this browser cannot encrypt media end to end' },
      });
      if (sig?.connected) void sig.request('leave').catch(() => {}).finally(() => sig.close(1000));
      return false;
    }
    const older = new Set(this.state.participants.keys());
    const manager: E2eeManager = new E2eeManager(this.state.meetingId!, self, older, this.transforms, {
      send: async (to, data) => {
        if (this.e2ee === manager) await this.sig?.request('relay', { to, data });
      },
      sendEach: async (each) => {
        if (this.e2ee === manager) await this.sig?.request('relay', { each });
      },
      inRoster: (id) => this.state.participants.has(id),
      accountOf: (id) => {
        const p = this.state.participants.get(id);
        return p?.signed_in && typeof p.account === 'number' ? { account: p.account, deviceKeys: p.device_keys ?? [] } : null;
      },
      deliver: (from, data) => this.e2ee === manager && this.deliverRelay(from, data),
      changed: (view) => {
        if (this.e2ee !== manager) return;
        this.set({ e2ee: view });
        this.refreshDecrypt();
      },
    });
    this.e2ee = manager;
    this.set({ e2ee: manager.getView() });
    manager
      .start()
      .then(() => this.publishDevice(manager))
      .catch((e) => this.set({ error: { code: 'e2ee', message: `encryption keys: ${errorOf(e).message}` } }));
    return true;
  }

  /** Signed in: our identity key becomes one of the account's published devices, so that
   *  the others can pin it. Failing is harmless (they see a guest-like first meeting). */
  private async publishDevice(manager: E2eeManager): Promise<void> {
    const self = this.state.self;
    if (!self?.signed_in) return;
    const key = await manager.identityKey();
    if ((self.device_keys ?? []).includes(key)) return;
    const ua = navigator.userAgent;
    const browser = /Firefox\//.test(ua) ? 'Firefox' : /Edg\//.test(ua) ? 'Edge' : /Chrome\//.test(ua) ? 'Chrome' : /Safari\//.test(ua) ? 'Safari' : 'Browser';
    await addDevice(key, `${browser} (added when joining a meeting)`).catch(() => {});
  }

  /** We checked a person whose key changed: their new key is pinned. */
  acceptKey(participant: string): Promise<void> {
    return this.e2ee?.acceptKey(participant) ?? Promise.resolve();
  }

  private stopE2ee(): void {
    this.e2ee?.stop();
    this.e2ee = null;
    this.set({ e2ee: E2EE_OFF, decrypt: new Map() });
  }

  /** state.decrypt from the worker's per-receiver states and the mid → track map. */
  private refreshDecrypt(): void {
    const next = new Map<string, 'no_key' | 'authentication'>();
    for (const [id, status] of Object.entries(this.state.e2ee.tracks)) {
      if (status !== 'no_key' && status !== 'authentication') continue;
      const info = this.subTracks.get(id.slice(2)); // "r:<mid>"
      if (info) next.set(info.track, status);
    }
    const prev = this.state.decrypt;
    if (next.size === prev.size && [...next].every(([k, v]) => prev.get(k) === v)) return;
    this.set({ decrypt: next });
  }

  /** Puts our encoded-transform on a sender or receiver, once. Without E2EE in a browser
   *  whose connections need the older streams API, frames are passed through. */
  private attachTransform(end: RTCRtpSender | RTCRtpReceiver, kind: 'audio' | 'video', mid: string | null): void {
    if (this.attached.has(end)) return;
    this.attached.add(end);
    if (this.e2ee) {
      if (end instanceof RTCRtpSender) this.e2ee.attachSender(end, kind, mid);
      else this.e2ee.attachReceiver(end, kind, mid ?? '?');
    } else if (this.transforms === 'streams') {
      const s = (end as unknown as { createEncodedStreams(): { readable: ReadableStream; writable: WritableStream } }).createEncodedStreams();
      void s.readable.pipeTo(s.writable).catch(() => {});
    }
  }

  private afterFreshJoin(): void {
    if (!this.ensureE2ee()) return;
    this.ensureTransceivers();
    void this.negotiatePublishSafe();
    this.scheduleViews(0);
  }

  private openSignaling = async (): Promise<SignalingClient> => {
    const sig = this.opts.createSignaling();
    this.sig = sig;
    this.wire(sig);
    await sig.connect();
    return sig;
  };

  private wire(sig: SignalingClient): void {
    const mine = () => sig === this.sig;
    const roster = <K extends keyof ServerEvents>(event: K) =>
      sig.on(event, (msg) => {
        if (!mine()) return;
        this.setRoster(
          applyRosterEvent(this.roster, { event, ...msg } as Parameters<typeof applyRosterEvent>[1], this.state.self?.id ?? null),
        );
      });
    sig.on('participant_joined', (msg) => mine() && this.e2ee?.participantJoined(msg.participant.id));
    sig.on('participant_left', (msg) => mine() && this.e2ee?.participantLeft(msg.participant));
    // Before the roster forgets them: a removal is told with the name.
    sig.on('participant_left', (msg) => {
      if (!mine() || msg.reason !== 'removed') return;
      this.notify({ kind: 'removed', subject: msg.participant, name: this.state.participants.get(msg.participant)?.name });
    });
    roster('participant_joined');
    roster('participant_left');
    roster('track_published');
    roster('track_unpublished');
    roster('track_muted');
    roster('speaking');
    roster('participant_renamed');
    sig.on('role_changed', (msg) => {
      if (!mine()) return;
      if (msg.participant === this.state.self?.id) {
        this.set({ role: msg.role, self: { ...this.state.self, role: msg.role } });
        this.notify({ kind: 'role', subject: msg.participant, role: msg.role });
        return;
      }
      this.setRoster(applyRosterEvent(this.roster, { event: 'role_changed', ...msg }, this.state.self?.id ?? null));
    });
    sig.on('participant_renamed', (msg) => {
      if (mine() && msg.participant === this.state.self?.id) this.set({ self: { ...this.state.self, name: msg.name } });
    });
    sig.on('admitted', (msg) => {
      if (!mine() || this.state.phase !== 'waiting') return;
      this.roster = emptyRoster;
      this.setRoster(rosterFromJoin(msg.roster, this.state.self?.id ?? ''));
      this.set({
        phase: 'joined',
        role: msg.role,
        settings: msg.settings,
        spotlight: msg.spotlight,
        waiting: msg.waiting ?? [],
        waitingReason: null,
      });
      this.afterFreshJoin();
    });
    sig.on('denied', () => {
      if (mine()) this.closingReason = 'denied';
    });
    sig.on('waiting_changed', (msg) => {
      if (!mine()) return;
      const before = new Set(this.state.waiting.map((w) => w.id));
      const arrived = msg.waiting.filter((w) => !before.has(w.id));
      this.set({ waiting: msg.waiting });
      for (const w of arrived) this.notify({ kind: 'waiting', subject: w.id, name: w.name });
    });
    sig.on('settings_changed', (msg) => {
      if (!mine()) return;
      const old = this.state.settings;
      if (this.state.phase === 'waiting') return; // only `locked` reaches us; nothing to show
      this.set({ settings: msg.settings });
      if (old && old.locked !== msg.settings.locked) this.notify({ kind: msg.settings.locked ? 'locked' : 'unlocked' });
      if (old && old.chat !== msg.settings.chat) this.notify({ kind: msg.settings.chat ? 'chat_on' : 'chat_off' });
      if (old && old.screen_share !== msg.settings.screen_share && msg.settings.screen_share === 'hosts') {
        this.notify({ kind: 'share_hosts' });
        // The server ended our share already if we may not share any more.
        if (this.state.role === 'participant' && this.state.local.screen) void this.stopScreenShare();
      }
    });
    sig.on('spotlight', (msg) => mine() && this.set({ spotlight: msg.participant }));
    sig.on('muted_by_host', () => {
      if (!mine()) return;
      this.set({ hostMuted: true, unmuteRequested: false });
      const mic = this.state.local.microphone;
      if (mic) mic.enabled = false;
      this.setLocal({ micMuted: true });
      this.announcedMuted.set('microphone', true); // the server muted it already
      this.notify({ kind: 'muted_by_host' });
    });
    sig.on('unmute_requested', () => {
      if (!mine()) return;
      this.set({ unmuteRequested: true });
      this.notify({ kind: 'unmute_requested' });
    });
    sig.on('video_stopped', () => {
      if (!mine()) return;
      this.announcedMuted.set('camera', true);
      void this.setCameraOff(true);
      this.notify({ kind: 'video_stopped' });
    });
    sig.on('subscribe_offer', (msg) => mine() && this.onSubscribeOffer(msg));
    sig.on('layer', (msg) => {
      if (!mine()) return;
      const layers = new Map(this.state.layers);
      layers.set(msg.track, msg.layer);
      this.set({ layers });
    });
    sig.on('relay', (msg) => {
      if (!mine()) return;
      // In an E2EE meeting everything goes through the manager, which drops whatever is
      // not sealed by a key holder (only the server could have written it).
      if (this.e2ee) this.e2ee.onRelay(msg.from, msg.data);
      else if (this.state.settings?.e2ee === false) this.deliverRelay(msg.from, msg.data);
    });
    sig.on('connection_lost', () => {
      if (!mine() || this.state.phase !== 'joined') return;
      // The server's end of a media connection stopped answering (consent lost) and is
      // gone; ICE restarts cannot bring a DTLS association back. Start both connections
      // again: local tracks are kept and published anew, the subscribe side from scratch.
      this.resetMedia();
      this.afterFreshJoin();
      this.sig?.request('ice_restart', { pc: 'subscribe', reset: true }).catch(() => {});
    });
    sig.on('closing', (msg) => {
      if (mine()) this.closingReason = msg.reason;
    });
    sig.on('disconnected', (d) => this.onDisconnected(sig, d));
  }

  // ---------------------------------------------------------------- reconnecting

  private onDisconnected(sig: SignalingClient, d: Disconnected): void {
    if (sig !== this.sig) return;
    this.sig = null;
    if (this.state.phase !== 'joined' && this.state.phase !== 'waiting') return; // joining: join() reports it; left: expected
    const reason = this.closingReason;
    this.closingReason = null;
    if (
      d.code === 4001 ||
      reason === 'replaced' ||
      reason === 'removed' ||
      reason === 'denied' ||
      reason === 'meeting_ended'
    ) {
      const ended: EndReason = d.code === 4001 || reason === 'replaced' ? 'replaced' : (reason as EndReason);
      this.closeMedia();
      this.stopLocalTracks();
      this.stopE2ee();
      this.set({ phase: 'left', ended });
      return;
    }
    void this.reconnect();
  }

  private async reconnect(): Promise<void> {
    const run = ++this.reconnectRun;
    const since = Date.now();
    const wasWaiting = this.state.phase === 'waiting';
    this.set({ phase: 'reconnecting', reconnect: { attempt: 0, since } });
    for (let attempt = 0; ; attempt++) {
      const delay = backoffDelay(attempt);
      if (Date.now() + delay - since > this.opts.reconnectWindowMs) break;
      await sleep(delay);
      if (run !== this.reconnectRun || this.state.phase !== 'reconnecting') return;
      this.set({ reconnect: { attempt: attempt + 1, since } });
      let sig: SignalingClient;
      try {
        sig = await this.openSignaling();
      } catch {
        continue;
      }
      if (run !== this.reconnectRun) return sig.close();
      try {
        const meeting = this.state.meetingId!;
        let res: JoinResult;
        let fresh = false;
        let reset = false;
        try {
          res = await sig.request('join', this.joinFields(meeting, this.token ?? undefined));
          fresh = !res.resumed;
        } catch (e) {
          if (!(e instanceof SignalingError) || e.code !== 'reconnect_expired') throw e;
          // Our place is gone: join afresh on this same connection, with new peer
          // connections (the server dropped the old ones).
          this.resetMedia();
          reset = true;
          res = await sig.request('join', this.joinFields(meeting));
          fresh = true;
        }
        if (run !== this.reconnectRun || sig !== this.sig) return sig.close();
        if (fresh && !reset) this.resetMedia();
        this.applyJoin(res);
        if ((this.state.phase as Phase) === 'waiting') return; // media starts when admitted
        if (fresh || wasWaiting) this.afterFreshJoin();
        else this.afterResume();
        return;
      } catch (e) {
        if (this.sig === sig) this.sig = null;
        sig.close();
        if (e instanceof SignalingError && FATAL_JOIN_ERRORS.has(e.code)) {
          this.closeMedia();
          this.stopLocalTracks();
          this.stopE2ee();
          this.set({ phase: 'error', ended: 'join_failed', error: errorOf(e), reconnect: null });
          return;
        }
      }
    }
    if (run !== this.reconnectRun) return;
    this.closeMedia();
    this.stopLocalTracks();
    this.stopE2ee();
    this.set({
      phase: 'error',
      ended: 'connection_lost',
      reconnect: null,
      error: { code: 'disconnected', message: 'the connection to the server was lost' },
    });
  }

  /** The server kept our participant and both media connections: catch up on what could
   *  not be sent while we were away. */
  private afterResume(): void {
    void this.e2ee?.resync();
    for (const source of this.tx.keys()) void this.syncMute(source);
    if (this.unsentAnswer) {
      const a = this.unsentAnswer;
      this.unsentAnswer = null;
      this.subQueue = this.subQueue.then(() => this.sendAnswer(a, this.generation)).catch(() => {});
    }
    if (this.pubOwed) {
      this.pubOwed = false;
      void this.negotiatePublishSafe();
    }
    this.scheduleViews(0);
  }

  // ---------------------------------------------------------------- peer connections

  private newPc(): RTCPeerConnection {
    return new RTCPeerConnection({
      ...this.opts.rtcConfig,
      bundlePolicy: 'max-bundle',
      rtcpMuxPolicy: 'require',
      // Only where RTCRtpScriptTransform is missing: frames then go through streams.
      ...(this.transforms === 'streams' ? { encodedInsertableStreams: true } : {}),
    } as RTCConfiguration);
  }

  /** New publish and subscribe connections; local tracks are kept and re-added. */
  private resetMedia(): void {
    this.closeMedia();
    const gen = this.generation;
    const pub = this.newPc();
    const sub = this.newPc();
    this.pub = pub;
    this.sub = sub;
    pub.onconnectionstatechange = () => {
      if (gen === this.generation && pub.connectionState === 'failed' && this.state.phase === 'joined') {
        this.pubIceRestart = true;
        void this.negotiatePublishSafe();
      }
    };
    sub.ontrack = () => {
      if (gen === this.generation) this.refreshRemoteTracks();
    };
    sub.onconnectionstatechange = () => {
      if (gen === this.generation && sub.connectionState === 'failed' && this.state.phase === 'joined') {
        this.sig?.request('ice_restart', { pc: 'subscribe', reset: false }).catch(() => {});
      }
    };
  }

  private closeMedia(): void {
    this.generation++;
    this.pub?.close();
    this.sub?.close();
    this.pub = this.sub = null;
    this.tx.clear();
    this.announcedMuted.clear();
    this.pubDirty = this.pubIceRestart = this.pubOwed = false;
    this.subTracks = new Map();
    this.subVersion = -1;
    this.unsentAnswer = null;
    this.subQueue = Promise.resolve();
    this.viewSent.clear();
    this.set({ remoteTracks: new Map(), layers: new Map(), local: { ...this.state.local, trackIds: {} } });
  }

  private stopLocalTracks(): void {
    const l = this.state.local;
    for (const t of [l.microphone, l.camera, l.screen]) t?.stop();
    this.cameraSeq++;
    this.micSeq++;
    this.setLocal({ microphone: null, camera: null, screen: null });
  }

  // ---------------------------------------------------------------- publishing

  /** Adds a sendonly transceiver for each local track that has none; true if any. */
  private ensureTransceivers(): boolean {
    const pc = this.pub;
    if (!pc) return false;
    const l = this.state.local;
    let added = false;
    if (l.microphone && !this.tx.has('microphone')) {
      const t = pc.addTransceiver(l.microphone, { direction: 'sendonly' });
      preferCodecs(t, 'audio');
      this.attachTransform(t.sender, 'audio', t.mid);
      this.tx.set('microphone', t);
      added = true;
    }
    if (l.camera && !this.tx.has('camera')) {
      const t = pc.addTransceiver(l.camera, {
        direction: 'sendonly',
        streams: [new MediaStream([l.camera])],
        sendEncodings: CAMERA_ENCODINGS.map((e) => ({ ...e })),
      });
      preferCodecs(t, 'video');
      this.attachTransform(t.sender, 'video', t.mid);
      this.tx.set('camera', t);
      added = true;
    }
    if (l.screen && !this.tx.has('screen')) {
      const t = pc.addTransceiver(l.screen, {
        direction: 'sendonly',
        streams: [new MediaStream([l.screen])],
        sendEncodings: SCREEN_ENCODINGS.map((e) => ({ ...e })),
      });
      preferCodecs(t, 'video');
      this.attachTransform(t.sender, 'video', t.mid);
      this.tx.set('screen', t);
      added = true;
    }
    return added;
  }

  private mutedOf(source: TrackSource): boolean {
    const l = this.state.local;
    // A microphone that is gone (unplugged, nothing to replace it) counts as muted.
    if (source === 'microphone') return l.micMuted || !l.microphone;
    if (source === 'camera') return l.cameraOff || !l.camera;
    return false;
  }

  /**
   * Sends a publish offer describing every live transceiver. One runs at a time: a call
   * while one runs makes exactly one more run afterwards (with the state as it is then),
   * and the returned promise settles when that has happened.
   */
  negotiatePublish(): Promise<void> {
    this.pubDirty = true;
    if (!this.pubRunning) {
      this.pubRunning = (async () => {
        try {
          while (this.pubDirty) {
            this.pubDirty = false;
            await this.publishOnce();
          }
        } finally {
          this.pubRunning = null;
        }
      })();
    }
    return this.pubRunning;
  }

  private negotiatePublishSafe(): Promise<void> {
    return this.negotiatePublish().catch((e) => {
      const err = errorOf(e);
      if (err.code === 'disconnected' || err.code === 'not_connected') {
        this.pubOwed = true; // sent again after resuming
        return;
      }
      this.set({ error: { code: err.code, message: `publish: ${err.message}` } });
    });
  }

  private async publishOnce(): Promise<void> {
    const pc = this.pub;
    const sig = this.sig;
    const gen = this.generation;
    if (!pc || !sig?.connected || this.state.phase !== 'joined') {
      if (pc) this.pubOwed = true;
      return;
    }
    const live = [...this.tx].filter(([, t]) => !isStopped(t));
    const restart = this.pubIceRestart;
    // Nothing to send: a withdrawn track was already ended by `unpublish`, and its stopped
    // transceiver goes out with the next offer that carries a live one.
    if (live.length === 0) return;
    const offer = await pc.createOffer(restart ? { iceRestart: true } : undefined);
    if (gen !== this.generation) return;
    await pc.setLocalDescription(offer);
    const tracks = live
      .filter(([, t]) => t.mid !== null)
      .map(([source, t]) => ({ mid: t.mid!, kind: kindOf(source), source, muted: this.mutedOf(source) }));
    let res;
    try {
      res = await sig.request('publish', { sdp: pc.localDescription!.sdp, tracks });
    } catch (e) {
      if (gen === this.generation && pc.signalingState === 'have-local-offer') {
        await pc.setLocalDescription({ type: 'rollback' }).catch(() => {});
      }
      throw e;
    }
    if (gen !== this.generation) return;
    this.pubIceRestart = this.pubIceRestart && !restart;
    await pc.setRemoteDescription({ type: 'answer', sdp: res.sdp });
    const byMid = new Map(res.tracks.map((t) => [t.mid, t.id]));
    const trackIds: Partial<Record<TrackSource, string>> = {};
    for (const { mid, source, muted } of tracks) {
      const id = byMid.get(mid);
      if (id === undefined) continue;
      trackIds[source] = id;
      this.announcedMuted.set(source, muted);
    }
    // A source that was stopped while the publish was on its way is not ours any more.
    for (const source of Object.keys(trackIds) as TrackSource[]) {
      if (!this.tx.has(source)) delete trackIds[source];
    }
    this.setLocal({ trackIds });
    // Mute changes made while the publish was on its way.
    for (const { source } of tracks) void this.syncMute(source);
  }

  private async syncMute(source: TrackSource): Promise<void> {
    const id = this.state.local.trackIds[source];
    const sig = this.sig;
    if (!id || !sig?.connected || this.state.phase !== 'joined') return;
    const muted = this.mutedOf(source);
    if (this.announcedMuted.get(source) === muted) return;
    this.announcedMuted.set(source, muted);
    try {
      await sig.request('mute', { track: id, muted });
    } catch {
      this.announcedMuted.delete(source); // resent after resuming, or on the next change
    }
  }

  /** Mutes or unmutes the microphone (the track sends silence while muted). Unmuting
   *  without a microphone asks for one. */
  async setMicMuted(muted: boolean): Promise<void> {
    const l = this.state.local;
    if (!muted && !this.canUnmute()) {
      this.notify({ kind: 'cannot_unmute' });
      return;
    }
    if (!muted && this.state.hostMuted) this.set({ hostMuted: false, unmuteRequested: false });
    if (!muted && !l.microphone) {
      const seq = ++this.micSeq;
      const m = await getLocalMedia({ audio: true, video: false }, { microphone: this.chosen.microphone });
      if (!m.audio) {
        this.setLocal({ audioProblem: m.audioProblem });
        return;
      }
      if (!this.isCurrent('microphone', seq)) {
        m.audio.stop();
        return;
      }
      // A sender whose device ended keeps its transceiver: installTrack puts the new
      // track into it; otherwise a transceiver is added and negotiated.
      this.setLocal({ micMuted: false });
      await this.installTrack('microphone', m.audio, null);
      return;
    }
    if (l.microphone) l.microphone.enabled = !muted;
    this.setLocal({ micMuted: muted });
    await this.syncMute('microphone');
  }

  /** Turns the camera off (device released, nothing sent) or on (device asked for again). */
  async setCameraOff(off: boolean): Promise<void> {
    const seq = ++this.cameraSeq;
    const tx = this.tx.get('camera');
    if (off) {
      const track = this.state.local.camera;
      this.setLocal({ camera: null, cameraOff: true });
      if (track) track.enabled = false;
      await this.syncMute('camera');
      if (tx && !isStopped(tx)) await tx.sender.replaceTrack(null).catch(() => {});
      track?.stop();
      return;
    }
    if (this.state.local.camera) {
      this.setLocal({ cameraOff: false });
      return;
    }
    const m = await getLocalMedia({ audio: false, video: true }, { camera: this.chosen.camera });
    if (seq !== this.cameraSeq || this.state.phase === 'left' || this.state.phase === 'error') {
      m.video?.stop();
      return;
    }
    if (!m.video) {
      this.setLocal({ videoProblem: m.videoProblem });
      return;
    }
    this.watchDevice('camera', m.video);
    this.setLocal({ camera: m.video, cameraOff: false, videoProblem: null });
    const current = this.tx.get('camera');
    if (current && !isStopped(current)) {
      await current.sender.replaceTrack(m.video).catch(() => {});
      await this.syncMute('camera');
    } else if (this.state.phase === 'joined' && this.ensureTransceivers()) {
      await this.negotiatePublishSafe();
    }
  }

  /** Asks the browser for a screen (or window, or tab) and publishes it as a second video
   *  track, without simulcast. Resolves false if the person cancelled or it failed. */
  async startScreenShare(): Promise<boolean> {
    if (this.state.local.screen || this.state.phase !== 'joined') return false;
    let stream: MediaStream;
    try {
      stream = await navigator.mediaDevices.getDisplayMedia({ video: true, audio: false });
    } catch (e) {
      const problem = classifyMediaError(e);
      // Cancelling the picker is a NotAllowedError too: not a problem to report.
      this.setLocal({ screenProblem: problem === 'denied' ? null : problem });
      return false;
    }
    const track = stream.getVideoTracks()[0];
    if (!track || this.state.phase !== 'joined') {
      stream.getTracks().forEach((t) => t.stop());
      return false;
    }
    track.contentHint = 'detail';
    // The browser's own "Stop sharing" ends the track.
    track.addEventListener('ended', () => {
      if (this.state.local.screen === track) void this.stopScreenShare();
    });
    this.setLocal({ screen: track, screenProblem: null });
    this.ensureTransceivers();
    await this.negotiatePublishSafe();
    return true;
  }

  async stopScreenShare(): Promise<void> {
    const track = this.state.local.screen;
    if (!track) return;
    const tx = this.tx.get('screen');
    this.tx.delete('screen');
    this.announcedMuted.delete('screen');
    const id = this.state.local.trackIds.screen;
    const trackIds = { ...this.state.local.trackIds };
    delete trackIds.screen;
    this.setLocal({ screen: null, trackIds });
    track.stop();
    if (id && this.sig?.connected) await this.sig.request('unpublish', { track: id }).catch(() => {});
    if (tx && !isStopped(tx) && this.pub?.signalingState !== 'closed') tx.stop();
    await this.negotiatePublishSafe();
  }

  // ---------------------------------------------------------------- subscribing

  private onSubscribeOffer(msg: ServerEvents['subscribe_offer']): void {
    const gen = this.generation;
    this.subQueue = this.subQueue
      .then(() => this.answerOffer(msg, gen))
      .catch((e) => this.set({ error: { code: errorOf(e).code, message: `subscribe: ${errorOf(e).message}` } }));
  }

  private async answerOffer(msg: ServerEvents['subscribe_offer'], gen: number): Promise<void> {
    const pc = this.sub;
    if (!pc || gen !== this.generation || msg.version <= this.subVersion) return;
    this.subVersion = msg.version;
    this.unsentAnswer = null;
    this.subTracks = new Map(msg.tracks.map((t) => [t.mid, t]));
    await pc.setRemoteDescription({ type: 'offer', sdp: msg.sdp });
    if (gen !== this.generation) return;
    // Before the answer goes out, so that no frame arrives untransformed.
    for (const t of pc.getTransceivers()) {
      if (t.mid === null || isStopped(t)) continue;
      this.attachTransform(t.receiver, t.receiver.track.kind === 'audio' ? 'audio' : 'video', t.mid);
    }
    const answer = await pc.createAnswer();
    if (gen !== this.generation) return;
    await pc.setLocalDescription(answer);
    this.refreshRemoteTracks();
    await this.sendAnswer({ version: msg.version, sdp: pc.localDescription!.sdp }, gen);
  }

  private async sendAnswer(a: { version: number; sdp: string }, gen: number): Promise<void> {
    if (gen !== this.generation) return;
    const sig = this.sig;
    if (!sig?.connected) {
      this.unsentAnswer = a;
      return;
    }
    try {
      await sig.request('subscribe_answer', a);
    } catch (e) {
      if (!(e instanceof SignalingError)) throw e;
      if (e.code === 'stale_offer') return; // a newer offer is on its way
      if (e.code === 'disconnected' || e.code === 'not_connected' || e.code === 'timeout') {
        if (gen === this.generation && this.subVersion === a.version) this.unsentAnswer = a;
        return;
      }
      throw e;
    }
  }

  /** remoteTracks from the receivers of the subscribe connection and the latest offer's
   *  mid → track list. */
  private refreshRemoteTracks(): void {
    const pc = this.sub;
    if (!pc) return;
    const next = new Map<string, MediaStreamTrack>();
    for (const t of pc.getTransceivers()) {
      if (t.mid === null || isStopped(t)) continue;
      const info = this.subTracks.get(t.mid);
      if (info) next.set(info.track, t.receiver.track);
    }
    this.refreshDecrypt();
    const prev = this.state.remoteTracks;
    if (next.size === prev.size && [...next].every(([id, tr]) => prev.get(id) === tr)) return;
    this.set({ remoteTracks: next });
  }

  // ---------------------------------------------------------------- tile sizes

  /**
   * Says how large a remote video is shown, in device pixels, or null when it is not
   * shown (the server then pauses it). Debounced; a size is sent only when it differs
   * noticeably from the last one sent.
   */
  setVideoView(trackId: string, size: Size | null): void {
    const s = size && { width: Math.max(1, Math.round(size.width)), height: Math.max(1, Math.round(size.height)) };
    this.viewWanted.set(trackId, s);
    this.scheduleViews(this.opts.viewDebounceMs);
  }

  private scheduleViews(ms: number): void {
    if (this.viewTimer !== null) clearTimeout(this.viewTimer);
    this.viewTimer = setTimeout(() => {
      this.viewTimer = null;
      this.flushViews();
    }, ms);
  }

  private flushViews(): void {
    const sig = this.sig;
    if (!sig?.connected || this.state.phase !== 'joined') return;
    for (const [track, want] of this.viewWanted) {
      if (!this.state.tracks.has(track)) continue;
      const sent = this.viewSent.get(track);
      if (want === null) {
        if (sent === null) continue;
      } else if (sent && !sizeChangedNoticeably(sent, want)) {
        continue;
      }
      this.viewSent.set(track, want);
      const fields = want
        ? { track, quality: 'high' as const, width: want.width, height: want.height }
        : { track, quality: 'off' as const };
      sig.request('subscribe', fields).catch(() => {
        // Not applied: try again on the next flush (after resuming, or the next resize).
        if (this.viewSent.get(track) === want) this.viewSent.delete(track);
      });
    }
  }

  private forgetGoneViews(): void {
    for (const id of [...this.viewWanted.keys()]) {
      if (!this.state.tracks.has(id)) {
        this.viewWanted.delete(id);
        this.viewSent.delete(id);
      }
    }
  }

  // ---------------------------------------------------------------- relay

  /** Sends `data` to one participant, or with `to` null to everyone else (a `relay`). In
   *  an E2EE meeting `data` is sealed first: the server relays only ciphertext. */
  async sendRelay(to: string | null, data: unknown, kind?: string): Promise<void> {
    if (!this.sig) throw new SignalingError('not_connected', 'not in a meeting');
    if (this.state.settings?.e2ee !== false) {
      if (!this.e2ee) throw new SignalingError('not_connected', 'encryption keys are not ready');
      data = await this.e2ee.seal(to, data);
      if (!this.sig) throw new SignalingError('not_connected', 'not in a meeting');
    }
    await this.sig.request('relay', kind ? { to, data, kind } : { to, data });
  }

  private deliverRelay(from: string, data: unknown): void {
    for (const h of [...this.relayHandlers]) h(from, data);
  }

  /** Receives relayed blobs; returns the function that stops it. */
  onRelay(handler: RelayHandler): () => void {
    this.relayHandlers.add(handler);
    return () => this.relayHandlers.delete(handler);
  }
}
