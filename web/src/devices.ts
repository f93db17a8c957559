// Cameras, microphones and speakers without UI: the lists the browser gives (with names
// even before permission), the choices remembered on this device, which device to ask
// for when the remembered one is gone, a microphone level for the meter, the speaker
// (setSinkId), and the pre-join preview, whose tracks the session adopts on joining.
import type { AdoptedLocalTracks } from './session';
import { useEffect, useState } from 'preact/hooks';
import { t } from './strings';
import { getLocalMedia, openReplacement, trackDeviceId, type DeviceIds, type DeviceProblem } from './media';

export type DeviceKind = 'camera' | 'microphone' | 'speaker';

const KIND_OF: Readonly<Record<string, DeviceKind>> = {
  videoinput: 'camera',
  audioinput: 'microphone',
  audiooutput: 'speaker',
};

/** The fields of MediaDeviceInfo used here (plain objects in tests). */
export interface DeviceInfoLike {
  deviceId: string;
  kind: string;
  label: string;
}

export interface DeviceOption {
  /** '' before permission: the browser hides ids until then; it means "the default". */
  deviceId: string;
  label: string;
}

export type DeviceLists = Readonly<Record<DeviceKind, readonly DeviceOption[]>>;

export const NO_DEVICES: DeviceLists = { camera: [], microphone: [], speaker: [] };

/**
 * enumerateDevices() grouped by kind, each id once, with a readable name for every entry:
 * before permission labels are empty ("Camera 1" then). Windows lists its
 * "communications" device as an extra entry that repeats a real one; it is left out.
 * Chromium's "default" entry stays (it follows the system default, "Default - …").
 */
export function groupDevices(infos: readonly DeviceInfoLike[]): DeviceLists {
  const out: Record<DeviceKind, DeviceOption[]> = { camera: [], microphone: [], speaker: [] };
  for (const d of infos) {
    const kind = KIND_OF[d.kind];
    if (!kind || d.deviceId === 'communications') continue;
    const list = out[kind];
    if (list.some((o) => o.deviceId === d.deviceId)) continue;
    const label = d.label.trim() || t.deviceFallback[kind](list.length + 1);
    list.push({ deviceId: d.deviceId, label });
  }
  return out;
}

/**
 * The device id to ask getUserMedia for, given the remembered one: null means "no
 * constraint", i.e. the system default. A remembered device that is no longer listed
 * (unplugged, or the browser reset its ids) falls back to the default; "default" itself is
 * the default. Before permission the ids are hidden (all ''), so the remembered id cannot
 * be checked here and is tried (getLocalMedia falls back when it is gone).
 */
export function chooseDevice(options: readonly DeviceOption[], stored: string | null | undefined): string | null {
  if (!stored || stored === 'default') return null;
  if (!options.some((o) => o.deviceId !== '')) return stored;
  return options.some((o) => o.deviceId === stored) ? stored : null;
}

/** The option a <select> shows for the device in use (null: the system default). */
export function selectedDevice(options: readonly DeviceOption[], inUse: string | null): string {
  if (inUse !== null && options.some((o) => o.deviceId === inUse)) return inUse;
  if (options.some((o) => o.deviceId === 'default')) return 'default';
  return options[0]?.deviceId ?? '';
}

/** The device a track comes from, else the chosen one (null: the system default). */
export function trackDeviceIdOrChoice(track: MediaStreamTrack | null, choice: string | null): string | null {
  return trackDeviceId(track) ?? choice;
}

/** A <select> value back to a device choice: '' and "default" are the system default. */
export function choiceOf(value: string): string | null {
  return value === '' || value === 'default' ? null : value;
}

// ---------------------------------------------------------------- remembered choices

export const DEVICES_KEY = 'conclave.devices';
export const JOIN_PREFS_KEY = 'conclave.joinWith';

export interface DeviceChoices {
  camera?: string;
  microphone?: string;
  speaker?: string;
}

export interface JoinPrefs {
  micOff: boolean;
  cameraOff: boolean;
}

type StorageLike = Pick<Storage, 'getItem' | 'setItem'>;

/** localStorage, or null where even reading the property throws (storage blocked). */
function localStore(): StorageLike | null {
  try {
    return globalThis.localStorage ?? null;
  } catch {
    return null;
  }
}

function readJson(storage: StorageLike | null, key: string): Record<string, unknown> {
  try {
    const raw = storage?.getItem(key);
    if (!raw) return {};
    const v: unknown = JSON.parse(raw);
    return v && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}

function writeJson(storage: StorageLike | null, key: string, value: unknown): void {
  try {
    storage?.setItem(key, JSON.stringify(value));
  } catch {
    /* storage off or full: the choice is just not remembered */
  }
}

const isId = (v: unknown): v is string => typeof v === 'string' && v !== '' && v.length <= 512;

export function loadDeviceChoices(storage: StorageLike | null = localStore()): DeviceChoices {
  const v = readJson(storage, DEVICES_KEY);
  const out: DeviceChoices = {};
  for (const k of ['camera', 'microphone', 'speaker'] as const) if (isId(v[k])) out[k] = v[k];
  return out;
}

/** Remembers the device chosen for `kind`; null forgets it (the system default). */
export function saveDeviceChoice(kind: DeviceKind, deviceId: string | null, storage: StorageLike | null = localStore()): void {
  const c = loadDeviceChoices(storage);
  if (deviceId && deviceId !== 'default') c[kind] = deviceId;
  else delete c[kind];
  writeJson(storage, DEVICES_KEY, c);
}

export function loadJoinPrefs(storage: StorageLike | null = localStore()): JoinPrefs {
  const v = readJson(storage, JOIN_PREFS_KEY);
  return { micOff: v.micOff === true, cameraOff: v.cameraOff === true };
}

export function saveJoinPrefs(p: JoinPrefs, storage: StorageLike | null = localStore()): void {
  writeJson(storage, JOIN_PREFS_KEY, { micOff: p.micOff, cameraOff: p.cameraOff });
}

// ---------------------------------------------------------------- microphone level

/** The level meter's range: -60 dB (quiet room) reads 0, 0 dB (a full-scale sine) 100. */
export const LEVEL_FLOOR_DB = -60;

/**
 * A 0..100 level from time-domain samples (-1..1). Loudness is heard logarithmically, so
 * the RMS is taken in dB relative to a full-scale sine (the AES17 convention: a
 * full-scale sine reads 0 dB, i.e. RMS dBFS + 3.01) and -60..0 dB is mapped linearly onto
 * 0..100. Normal speech into a laptop microphone lands in the middle, not at the bottom
 * as with a linear scale.
 */
export function levelFromSamples(samples: ArrayLike<number>): number {
  const n = samples.length;
  if (n === 0) return 0;
  let sum = 0;
  for (let i = 0; i < n; i++) sum += samples[i] * samples[i];
  const rms = Math.sqrt(sum / n);
  if (!(rms > 0)) return 0;
  const db = 20 * Math.log10(rms * Math.SQRT2);
  const level = ((db - LEVEL_FLOOR_DB) / -LEVEL_FLOOR_DB) * 100;
  return Math.min(100, Math.max(0, level));
}

/**
 * Fast attack, slow release (like a peak programme meter): a louder reading shows at
 * once, a quieter one lets the shown level fall by at most `decayPerSecond`, so the bar
 * does not flicker to zero between syllables.
 */
export function smoothLevel(shown: number, reading: number, dtMs: number, decayPerSecond = 150): number {
  if (reading >= shown) return reading;
  return Math.max(reading, shown - (decayPerSecond * Math.max(0, dtMs)) / 1000);
}

/**
 * The level of `track`, 0..100, updated every `intervalMs` (10×/s: enough for the eye,
 * and a screen reader is not flooded with aria-valuenow changes). A disabled (muted)
 * track reads 0. The analyser is not connected to the speakers: nothing is played back.
 */
export function useMicLevel(track: MediaStreamTrack | null, intervalMs = 100): number {
  const [level, setLevel] = useState(0);
  useEffect(() => {
    setLevel(0);
    const Ctx = globalThis.AudioContext;
    if (!track || track.readyState === 'ended' || !Ctx) return;
    let ctx: AudioContext;
    let source: MediaStreamAudioSourceNode;
    let analyser: AnalyserNode;
    try {
      ctx = new Ctx();
      source = ctx.createMediaStreamSource(new MediaStream([track]));
      analyser = ctx.createAnalyser();
      // ~85 ms at 48 kHz: most of each interval is seen, so short syllables count.
      analyser.fftSize = 4096;
      source.connect(analyser);
    } catch {
      return;
    }
    const buf = new Float32Array(analyser.fftSize);
    // Autoplay rules may start the context suspended (no input processed) until the
    // person interacts with the page; capturing usually lifts that, a click always does.
    const resume = () => {
      if (ctx.state === 'suspended') ctx.resume().catch(() => {});
    };
    resume();
    addEventListener('pointerdown', resume, true);
    addEventListener('keydown', resume, true);
    let shown = 0;
    let last = performance.now();
    const timer = setInterval(() => {
      const now = performance.now();
      let reading = 0;
      if (track.enabled && track.readyState === 'live') {
        analyser.getFloatTimeDomainData(buf);
        reading = levelFromSamples(buf);
      }
      shown = smoothLevel(shown, reading, now - last);
      last = now;
      const rounded = Math.round(shown);
      setLevel((prev) => (prev === rounded ? prev : rounded));
    }, intervalMs);
    return () => {
      clearInterval(timer);
      removeEventListener('pointerdown', resume, true);
      removeEventListener('keydown', resume, true);
      source.disconnect();
      ctx.close().catch(() => {});
    };
  }, [track, intervalMs]);
  return level;
}

// ---------------------------------------------------------------- lists and speaker

/**
 * The devices, grouped, refreshed on `devicechange` (plugging in a headset) and whenever
 * `refreshKey` changes: labels appear only after permission, and Chromium does not fire
 * devicechange for that.
 */
export function useDeviceList(refreshKey?: unknown): DeviceLists {
  const [lists, setLists] = useState<DeviceLists>(NO_DEVICES);
  useEffect(() => {
    const md = globalThis.navigator?.mediaDevices;
    if (!md?.enumerateDevices) return;
    let run = 0;
    const refresh = () => {
      const mine = ++run;
      md.enumerateDevices()
        .then((d) => {
          if (mine === run) setLists(groupDevices(d));
        })
        .catch(() => {});
    };
    refresh();
    md.addEventListener('devicechange', refresh);
    return () => {
      run = -1;
      md.removeEventListener('devicechange', refresh);
    };
  }, [refreshKey]);
  return lists;
}

type SinkElement = HTMLMediaElement & { sinkId?: string; setSinkId?: (id: string) => Promise<void> };

/** Whether this browser can send a media element's sound to a chosen speaker. */
export function canChooseSpeaker(): boolean {
  return typeof HTMLMediaElement !== 'undefined' && 'setSinkId' in HTMLMediaElement.prototype;
}

/**
 * Plays `el` through `deviceId` (null: the system default). A speaker that is gone or not
 * allowed leaves the element on the default output. Resolves whether the choice applied.
 */
export async function applySink(el: HTMLMediaElement | null, deviceId: string | null): Promise<boolean> {
  const m = el as SinkElement | null;
  if (!m || typeof m.setSinkId !== 'function') return false;
  const id = choiceOf(deviceId ?? '') ?? '';
  if (m.sinkId === id) return true;
  try {
    await m.setSinkId(id);
    return true;
  } catch {
    if (id !== '' && m.sinkId !== '') await m.setSinkId('').catch(() => {});
    return false;
  }
}

// ---------------------------------------------------------------- pre-join preview

export interface PreviewState {
  microphone: MediaStreamTrack | null;
  camera: MediaStreamTrack | null;
  audioProblem: DeviceProblem | null;
  videoProblem: DeviceProblem | null;
  micOff: boolean;
  cameraOff: boolean;
  /** The first request for the devices (the permission prompt) is still open. */
  starting: boolean;
  /** The choices (device ids; null: system default). */
  choices: { camera: string | null; microphone: string | null; speaker: string | null };
}

/** What MeetingSession.adoptLocalTracks takes over (defined beside it). */
export type AdoptedTracks = AdoptedLocalTracks;

/**
 * The camera and microphone of the pre-join screen. It owns its tracks until take() hands
 * them to the session (which publishes them as they are: no second prompt, no camera
 * restart) or release() stops them. Device operations run one after the other, so a
 * quick series of choices cannot leave a stray track (and camera light) behind.
 */
export class DevicePreview {
  private s: PreviewState;
  private readonly listeners = new Set<(s: PreviewState) => void>();
  private queue: Promise<void> = Promise.resolve();
  private started = false;
  private released = false;
  private handedOver = false;

  constructor(prefs: JoinPrefs = loadJoinPrefs(), choices: DeviceChoices = loadDeviceChoices()) {
    this.s = {
      microphone: null,
      camera: null,
      audioProblem: null,
      videoProblem: null,
      micOff: prefs.micOff,
      cameraOff: prefs.cameraOff,
      starting: false,
      choices: {
        camera: choices.camera ?? null,
        microphone: choices.microphone ?? null,
        speaker: choices.speaker ?? null,
      },
    };
  }

  getState(): PreviewState {
    return this.s;
  }

  subscribe(l: (s: PreviewState) => void): () => void {
    this.listeners.add(l);
    return () => this.listeners.delete(l);
  }

  private set(patch: Partial<PreviewState>): void {
    this.s = { ...this.s, ...patch };
    for (const l of [...this.listeners]) l(this.s);
  }

  /** False once the tracks were handed over or released. */
  private get owning(): boolean {
    return !this.released && !this.handedOver;
  }

  private run(op: () => Promise<void>): Promise<void> {
    const next = this.queue.then(op, op);
    this.queue = next.catch(() => {});
    return this.queue;
  }

  /** Asks for the microphone and (unless "join with camera off") the camera, once. */
  start(): Promise<void> {
    if (this.started) return this.queue;
    this.started = true;
    this.set({ starting: true });
    return this.run(async () => {
      // Where permission was given before, the ids are visible and a remembered device
      // that is gone can be replaced by the default before asking.
      const lists = groupDevices(await enumerate());
      const ids: DeviceIds = {
        microphone: chooseDevice(lists.microphone, this.s.choices.microphone),
        camera: chooseDevice(lists.camera, this.s.choices.camera),
      };
      const m = await getLocalMedia({ audio: true, video: !this.s.cameraOff }, ids);
      if (!this.owning) {
        m.audio?.stop();
        m.video?.stop();
        return;
      }
      if (m.audio) this.adopt('microphone', m.audio);
      if (m.video) this.adopt('camera', m.video);
      this.set({
        microphone: m.audio,
        camera: m.video,
        audioProblem: m.audioProblem,
        videoProblem: m.videoProblem,
        starting: false,
      });
    });
  }

  private adopt(kind: 'microphone' | 'camera', track: MediaStreamTrack): void {
    if (kind === 'microphone') track.enabled = !this.s.micOff;
    // Unplugged while previewing: carry on with the default device of that kind.
    track.addEventListener('ended', () => {
      if (this.owning && this.s[kind] === track) void this.run(() => this.replace(kind, null, true));
    });
  }

  /** Gets `kind` from `deviceId` in place of the current track. */
  private async replace(kind: 'microphone' | 'camera', deviceId: string | null, ended = false): Promise<void> {
    const old = this.s[kind];
    if (ended) old?.stop();
    const r = await openReplacement(kind, deviceId, old);
    const track = r.track ?? r.fallback;
    if (!this.owning || (kind === 'camera' && this.s.cameraOff)) {
      track?.stop();
      return;
    }
    if (track) this.adopt(kind, track);
    if (old && old !== track) old.stop();
    const problem = track ? null : (r.problem ?? 'not_found');
    this.set(kind === 'microphone' ? { microphone: track, audioProblem: problem } : { camera: track, videoProblem: problem });
  }

  setMicrophone(deviceId: string | null): Promise<void> {
    saveDeviceChoice('microphone', deviceId);
    this.set({ choices: { ...this.s.choices, microphone: deviceId } });
    return this.run(async () => {
      if (!this.owning || (this.s.microphone && trackDeviceId(this.s.microphone) === deviceId)) return;
      await this.replace('microphone', deviceId);
    });
  }

  setCamera(deviceId: string | null): Promise<void> {
    saveDeviceChoice('camera', deviceId);
    this.set({ choices: { ...this.s.choices, camera: deviceId } });
    return this.run(async () => {
      // Camera off: only remembered, the light stays off.
      if (!this.owning || this.s.cameraOff) return;
      if (this.s.camera && trackDeviceId(this.s.camera) === deviceId) return;
      await this.replace('camera', deviceId);
    });
  }

  setSpeaker(deviceId: string | null): void {
    saveDeviceChoice('speaker', deviceId);
    this.set({ choices: { ...this.s.choices, speaker: deviceId } });
  }

  /** "Join with microphone off": the track stays (unmuting is instant) but sends silence. */
  setMicOff(off: boolean): void {
    if (this.s.microphone && this.owning) this.s.microphone.enabled = !off;
    this.set({ micOff: off });
    saveJoinPrefs({ micOff: off, cameraOff: this.s.cameraOff });
  }

  /** "Join with camera off": the camera is stopped (its light goes out) until turned on. */
  setCameraOff(off: boolean): Promise<void> {
    this.set({ cameraOff: off });
    saveJoinPrefs({ micOff: this.s.micOff, cameraOff: off });
    return this.run(async () => {
      if (!this.owning || this.s.cameraOff !== off) return;
      if (off) {
        this.s.camera?.stop();
        this.set({ camera: null, videoProblem: null });
      } else if (!this.s.camera) {
        await this.replace('camera', this.s.choices.camera);
      }
    });
  }

  /**
   * Hands the tracks over (after any device operation under way): from now on they are
   * the caller's to stop. Null if the preview was released meanwhile. The state keeps
   * the tracks so that the preview goes on showing them while joining.
   */
  async take(): Promise<AdoptedTracks | null> {
    if (!this.started) void this.start();
    await this.queue;
    if (!this.owning) return null;
    this.handedOver = true;
    const s = this.s;
    return {
      microphone: s.microphone,
      camera: s.cameraOff ? null : s.camera,
      micMuted: s.micOff,
      cameraOff: s.cameraOff,
      audioProblem: s.audioProblem,
      videoProblem: s.cameraOff ? null : s.videoProblem,
      choices: { microphone: s.choices.microphone, camera: s.choices.camera },
    };
  }

  /** Whether take() would hand tracks over (not taken, not released). */
  get available(): boolean {
    return this.owning;
  }

  /** After a failed join (the session stopped what it took): starts the preview again. */
  restart(): Promise<void> {
    if (this.released) return this.queue;
    this.handedOver = false;
    this.started = false;
    this.set({ microphone: null, camera: null });
    return this.start();
  }

  /** Stops every track it still owns (the page was left without joining). */
  release(): void {
    if (this.owning) {
      this.s.microphone?.stop();
      this.s.camera?.stop();
    }
    this.released = true;
    this.set({ microphone: null, camera: null, starting: false });
  }
}

async function enumerate(): Promise<MediaDeviceInfo[]> {
  try {
    return (await globalThis.navigator?.mediaDevices?.enumerateDevices?.()) ?? [];
  } catch {
    return [];
  }
}
