// Media helpers without state: what the publish connection sends (encodings, codecs),
// getting the camera and microphone (and saying in plain words why not), reconnect
// back-off and when a tile has changed size enough to tell the server.

/** Camera simulcast: three layers by RID, lowest first (the server orders them by the
 *  resolution it sees). */
export const CAMERA_ENCODINGS: RTCRtpEncodingParameters[] = [
  { rid: 'q', scaleResolutionDownBy: 4, maxBitrate: 150_000 },
  { rid: 'h', scaleResolutionDownBy: 2, maxBitrate: 500_000 },
  { rid: 'f', maxBitrate: 1_500_000 },
];

/** Screen share: one layer, sharp text rather than smooth motion. */
export const SCREEN_ENCODINGS: RTCRtpEncodingParameters[] = [{ maxBitrate: 2_500_000 }];

export const CAMERA_CONSTRAINTS: MediaTrackConstraints = {
  width: { ideal: 1280 },
  height: { ideal: 720 },
  frameRate: { ideal: 30 },
};

export const MIC_CONSTRAINTS: MediaTrackConstraints = {
  echoCancellation: true,
  noiseSuppression: true,
  autoGainControl: true,
};

interface CodecLike {
  mimeType: string;
}

/**
 * The codec list for setCodecPreferences: VP8 (and its retransmission format, rtx) for
 * video, Opus for audio, which is what the server forwards. Returns null when the wanted
 * codec is not there, so that the caller leaves the browser's default alone.
 */
export function preferredCodecs<C extends CodecLike>(codecs: readonly C[], kind: 'audio' | 'video'): C[] | null {
  const mime = (c: C) => c.mimeType.toLowerCase();
  if (kind === 'video') {
    const vp8 = codecs.filter((c) => mime(c) === 'video/vp8');
    if (vp8.length === 0) return null;
    return [...vp8, ...codecs.filter((c) => mime(c) === 'video/rtx')];
  }
  const opus = codecs.filter((c) => mime(c) === 'audio/opus');
  return opus.length ? opus : null;
}

/** Applies preferredCodecs to a transceiver where the browser supports it; a failure only
 *  means the browser's own order is used. */
export function preferCodecs(transceiver: RTCRtpTransceiver, kind: 'audio' | 'video'): void {
  if (typeof transceiver.setCodecPreferences !== 'function') return;
  // Chromium checks the list against the receiver's capabilities (even for sendonly).
  const caps = RTCRtpReceiver.getCapabilities?.(kind) ?? RTCRtpSender.getCapabilities?.(kind);
  if (!caps) return;
  const list = preferredCodecs(caps.codecs, kind);
  if (!list) return;
  try {
    transceiver.setCodecPreferences(list);
  } catch {
    /* keep the default order */
  }
}

/** Reconnect back-off: 0.5 s, doubling, at most 5 s. `attempt` counts from 0. */
export function backoffDelay(attempt: number, firstMs = 500, maxMs = 5000): number {
  return Math.min(maxMs, firstMs * 2 ** Math.min(attempt, 16));
}

export interface Size {
  width: number;
  height: number;
}

/**
 * Whether a tile's new size (device pixels) is worth a `subscribe`: the first size, or a
 * change of more than `ratio` (20 %) in either dimension. Small jitters of a resizing
 * window are not sent; crossing a layer boundary always is, since layers are 2× apart.
 */
export function sizeChangedNoticeably(prev: Size | null, next: Size, ratio = 0.2): boolean {
  if (!prev) return true;
  const d = (a: number, b: number) => Math.abs(a - b) / Math.max(a, b, 1);
  return d(prev.width, next.width) > ratio || d(prev.height, next.height) > ratio;
}

/** Why a device could not be used, in the terms of the strings shown to the person. */
export type DeviceProblem = 'denied' | 'not_found' | 'in_use' | 'insecure' | 'failed';

export function classifyMediaError(e: unknown): DeviceProblem {
  const name = e instanceof DOMException || e instanceof Error ? e.name : '';
  switch (name) {
    case 'NotAllowedError':
    case 'SecurityError':
      return 'denied';
    case 'NotFoundError':
    case 'OverconstrainedError':
      return 'not_found';
    case 'NotReadableError':
    case 'AbortError':
      return 'in_use';
    default:
      return 'failed';
  }
}

export interface LocalMedia {
  audio: MediaStreamTrack | null;
  video: MediaStreamTrack | null;
  audioProblem: DeviceProblem | null;
  videoProblem: DeviceProblem | null;
}

/** Chosen devices by id; null or absent: the system default. */
export interface DeviceIds {
  microphone?: string | null;
  camera?: string | null;
}

/** The device a track comes from, or null where the browser does not say. */
export function trackDeviceId(track: MediaStreamTrack | null): string | null {
  return track?.getSettings?.().deviceId || null;
}

function withDevice(base: MediaTrackConstraints, id: string | null | undefined): MediaTrackConstraints {
  return id ? { ...base, deviceId: { exact: id } } : base;
}

const hasExactDevice = (c: MediaTrackConstraints | false) => c !== false && c.deviceId !== undefined;

function withoutDevice(c: MediaTrackConstraints | false): MediaTrackConstraints | false {
  if (c === false) return false;
  const { deviceId: _, ...rest } = c;
  return rest;
}

/**
 * getUserMedia, where a chosen device that is gone (unplugged, or its id reset with the
 * site data) fails as OverconstrainedError: then the default device is used, rather than
 * none. Which of the two ids was at fault is not reported, so both are dropped.
 */
async function userMedia(
  md: MediaDevices,
  audio: MediaTrackConstraints | false,
  video: MediaTrackConstraints | false,
): Promise<MediaStream> {
  try {
    return await md.getUserMedia({ audio, video });
  } catch (e) {
    const name = e instanceof DOMException || e instanceof Error ? e.name : '';
    if (name !== 'OverconstrainedError' || !(hasExactDevice(audio) || hasExactDevice(video))) throw e;
    return md.getUserMedia({ audio: withoutDevice(audio), video: withoutDevice(video) });
  }
}

/**
 * Asks for the microphone and the camera together (one permission prompt), and when
 * that fails, for each alone, so that a missing camera does not cost the microphone.
 * `ids` pins chosen devices ({ exact } ids), falling back to the default when gone.
 */
export async function getLocalMedia(want: { audio: boolean; video: boolean }, ids: DeviceIds = {}): Promise<LocalMedia> {
  const out: LocalMedia = { audio: null, video: null, audioProblem: null, videoProblem: null };
  if (!want.audio && !want.video) return out;
  const md = globalThis.navigator?.mediaDevices;
  if (!md?.getUserMedia) {
    // Only secure contexts (https, localhost) have mediaDevices.
    if (want.audio) out.audioProblem = 'insecure';
    if (want.video) out.videoProblem = 'insecure';
    return out;
  }
  const audio = want.audio ? withDevice(MIC_CONSTRAINTS, ids.microphone) : false;
  const video = want.video ? withDevice(CAMERA_CONSTRAINTS, ids.camera) : false;
  try {
    const s = await userMedia(md, audio, video);
    out.audio = s.getAudioTracks()[0] ?? null;
    out.video = s.getVideoTracks()[0] ?? null;
    return out;
  } catch (e) {
    if (!(want.audio && want.video)) {
      if (want.audio) out.audioProblem = classifyMediaError(e);
      else out.videoProblem = classifyMediaError(e);
      return out;
    }
    // A refusal of the prompt refuses both; asking again would only repeat it.
    if (classifyMediaError(e) === 'denied') {
      out.audioProblem = out.videoProblem = 'denied';
      return out;
    }
  }
  const [a, v] = await Promise.allSettled([userMedia(md, audio, false), userMedia(md, false, video)]);
  if (a.status === 'fulfilled') out.audio = a.value.getAudioTracks()[0] ?? null;
  else out.audioProblem = classifyMediaError(a.reason);
  if (v.status === 'fulfilled') out.video = v.value.getVideoTracks()[0] ?? null;
  else out.videoProblem = classifyMediaError(v.reason);
  return out;
}

export interface Replacement {
  /** The track of the wanted device, or null. */
  track: MediaStreamTrack | null;
  /** When the wanted device failed after `current` had to be stopped: `current`'s
   *  device opened again, so that the person keeps a camera (or microphone). */
  fallback: MediaStreamTrack | null;
  /** Why the wanted device could not be used. */
  problem: DeviceProblem | null;
}

/**
 * Opens device `deviceId` of `kind` to take the place of `current`, which keeps running
 * meanwhile (no gap in what is sent). Phones can run only one camera at a time and
 * refuse the second (NotReadableError, "in_use"): then `current` is stopped and the
 * device asked for again, and if that fails too, `current`'s own device. The caller
 * stops `current` once the new track is in place.
 */
export async function openReplacement(
  kind: 'microphone' | 'camera',
  deviceId: string | null,
  current: MediaStreamTrack | null,
): Promise<Replacement> {
  const want = { audio: kind === 'microphone', video: kind === 'camera' };
  const open = async (id: string | null) => {
    const m = await getLocalMedia(want, kind === 'microphone' ? { microphone: id } : { camera: id });
    return { track: m.audio ?? m.video, problem: m.audioProblem ?? m.videoProblem };
  };
  const first = await open(deviceId);
  if (first.track || first.problem !== 'in_use' || !current || current.readyState !== 'live') {
    return { track: first.track, fallback: null, problem: first.problem };
  }
  const previous = trackDeviceId(current);
  current.stop();
  const second = await open(deviceId);
  if (second.track) return { track: second.track, fallback: null, problem: null };
  const back = await open(previous);
  return { track: null, fallback: back.track, problem: second.problem };
}

export function canShareScreen(): boolean {
  return typeof globalThis.navigator?.mediaDevices?.getDisplayMedia === 'function';
}
