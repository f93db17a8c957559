// Media keys in the browser (docs/e2ee.md, "Sender keys and epochs" and "Frames"): our
// sending key with its ratchet and rekey, the other senders' keys by key id with the
// previous epoch kept briefly, and the frame layout `clear prefix || SFrame` with the
// prefix and its length authenticated as SFrame metadata. The twin of
// src/e2ee/media_keys.cpp; runs inside the encoded-transform worker.
import { decodeHeader, deriveKeyMaterial, protect, unprotect, type KeyMaterial } from './sframe';
import { ratchet, kidOf, splitKid, type Bytes } from './keys';

const SUITE = 4; // AES_128_GCM_SHA256_128

/** VP8 payload-header bytes the SFU reads (RFC 6386 §9.1): 10 on a key frame (low bit of
 *  the first byte 0), 3 otherwise; never more than the frame. */
export function vp8ClearPrefix(frame: Bytes): number {
  if (frame.length === 0) return 0;
  return Math.min((frame[0] & 1) === 0 ? 10 : 3, frame.length);
}

/** SFrame metadata of a clear prefix: u8(length) || prefix. */
export function prefixMetadata(prefix: Bytes): Bytes {
  const m = new Uint8Array(prefix.length + 1);
  m[0] = prefix.length;
  m.set(prefix, 1);
  return m;
}

function join(a: Bytes, b: Bytes): Bytes {
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}

/** Our own sending key. */
export class SenderState {
  private ctr = 0;
  private constructor(
    readonly keyId: number,
    public epoch: number,
    public base: Bytes,
    private km: KeyMaterial,
  ) {}

  static async create(keyId: number, base: Bytes, epoch = 0): Promise<SenderState> {
    return new SenderState(keyId, epoch, base, await deriveKeyMaterial(SUITE, BigInt(kidOf(keyId, epoch)), base));
  }

  /** Someone joined: the next epoch derives from this one. */
  async ratchet(): Promise<void> {
    await this.replace(await ratchet(this.base), (this.epoch + 1) & 0xffff);
  }

  /** Someone left: a fresh random key. */
  async rekey(fresh: Bytes): Promise<void> {
    await this.replace(fresh, (this.epoch + 1) & 0xffff);
  }

  async replace(base: Bytes, epoch: number): Promise<void> {
    const km = await deriveKeyMaterial(SUITE, BigInt(kidOf(this.keyId, epoch)), base);
    this.base = base;
    this.epoch = epoch;
    this.km = km;
    this.ctr = 0;
  }

  /** prefix || SFrame(rest), with u8(len) || prefix authenticated. */
  async protect(frame: Bytes, prefixLen: number): Promise<Bytes> {
    const prefix = frame.subarray(0, prefixLen);
    const ctr = this.ctr++;
    const sealed = await protect(this.km, BigInt(ctr), prefixMetadata(prefix), frame.subarray(prefixLen));
    return join(prefix, sealed);
  }
}

export type FrameResult = 'ok' | 'no_key' | 'authentication' | 'replay' | 'old_epoch' | 'malformed';

interface Epoch {
  epoch: number;
  base: Bytes;
  km: KeyMaterial;
}
interface Sender {
  current: Epoch;
  previous: Epoch | null;
  /** When the first frame of the current epoch was decrypted (ms), or null. */
  currentSince: number | null;
  /** The current epoch was derived by us ahead of its key message (a join ratchet). */
  derived: boolean;
}

/** Per received track: the highest counter seen per KID and a 128-frame window below it. */
export type ReplayWindows = Map<number, { highest: number; seen: Uint8Array }>;
const WINDOW = 128;
/** How far ahead of the newest key we ratchet on our own (several joins in a row). */
const MAX_AHEAD = 8;
export const PREVIOUS_EPOCH_GRACE_MS = 2000;

const older = (a: number, b: number) => ((b - a) & 0xffff) !== 0 && ((b - a) & 0xffff) < 0x8000; // a before b

async function makeEpoch(keyId: number, epoch: number, base: Bytes): Promise<Epoch> {
  return { epoch, base, km: await deriveKeyMaterial(SUITE, BigInt(kidOf(keyId, epoch)), base) };
}

/** The other senders' keys, as given to us over pairwise channels. */
export class MediaKeys {
  private readonly senders = new Map<number, Sender>();

  has(keyId: number): boolean {
    return this.senders.has(keyId);
  }

  epochOf(keyId: number): number | null {
    return this.senders.get(keyId)?.current.epoch ?? null;
  }

  /** A sender's key for an epoch. An older epoch than the one held is ignored. */
  async set(keyId: number, epoch: number, base: Bytes): Promise<void> {
    const e = await makeEpoch(keyId, epoch, base);
    const s = this.senders.get(keyId);
    if (!s) {
      this.senders.set(keyId, { current: e, previous: null, currentSince: null, derived: false });
      return;
    }
    if (epoch === s.current.epoch) {
      // A key message for an epoch we derived ahead: the message wins (a rekey).
      s.current = e;
      s.derived = false;
      return;
    }
    if (older(epoch, s.current.epoch)) return;
    s.previous = s.current;
    s.current = e;
    s.currentSince = null;
    s.derived = false;
  }

  forget(keyId: number): void {
    this.senders.delete(keyId);
  }

  private async ahead(keyId: number, s: Sender, epoch: number): Promise<Epoch | null> {
    const steps = (epoch - s.current.epoch) & 0xffff;
    if (steps === 0 || steps > MAX_AHEAD) return null;
    let base = s.current.base;
    for (let i = 0; i < steps; i++) base = await ratchet(base);
    return makeEpoch(keyId, epoch, base);
  }

  /** Decrypts `frame` (clear prefix, then SFrame); `kind` says how long the prefix is. */
  async unprotect(frame: Bytes, kind: 'audio' | 'video', replay: ReplayWindows, now: number): Promise<{ result: FrameResult; frame?: Bytes; keyId?: number }> {
    const prefixLen = kind === 'video' ? vp8ClearPrefix(frame) : 0;
    const body = frame.subarray(prefixLen);
    const decoded = decodeHeader(body);
    if (!decoded || body.length < decoded.size + 16 || decoded.header.kid >= 1n << 48n) return { result: 'malformed' };
    const kid = Number(decoded.header.kid);
    const ctr = Number(decoded.header.ctr);
    const { keyId, epoch } = splitKid(kid);
    const s = this.senders.get(keyId);
    if (!s) return { result: 'no_key', keyId };
    if (s.previous && s.currentSince !== null && now - s.currentSince > PREVIOUS_EPOCH_GRACE_MS) s.previous = null;
    let e: Epoch | null = null;
    let tentative: Epoch | null = null;
    if (epoch === s.current.epoch) e = s.current;
    else if (s.previous && epoch === s.previous.epoch) e = s.previous;
    else if (older(epoch, s.current.epoch)) return { result: 'old_epoch', keyId };
    else if ((tentative = await this.ahead(keyId, s, epoch))) e = tentative;
    else return { result: 'no_key', keyId };

    const w = replay.get(kid);
    if (w && ctr <= w.highest && (w.highest - ctr >= WINDOW || w.seen[ctr % WINDOW])) return { result: 'replay', keyId };
    const prefix = frame.subarray(0, prefixLen);
    const r = await unprotect(() => e!.km, prefixMetadata(prefix), body);
    if ('error' in r) {
      // A frame of an epoch we could only guess at (a rekey whose key has not come yet).
      return { result: tentative ? 'no_key' : 'authentication', keyId };
    }
    if (tentative && this.senders.get(keyId) === s && s.current.epoch !== epoch) {
      s.previous = s.current;
      s.current = tentative;
      s.currentSince = null;
      s.derived = true;
    }
    if (e === s.current && s.currentSince === null) s.currentSince = now;
    if (!w) {
      const seen = new Uint8Array(WINDOW);
      seen[ctr % WINDOW] = 1;
      replay.set(kid, { highest: ctr, seen });
    } else if (ctr > w.highest) {
      for (let c = Math.max(w.highest + 1, ctr - WINDOW + 1); c < ctr; c++) w.seen[c % WINDOW] = 0;
      w.seen[ctr % WINDOW] = 1;
      w.highest = ctr;
    } else {
      w.seen[ctr % WINDOW] = 1;
    }
    return { result: 'ok', frame: join(prefix, r.plaintext), keyId };
  }
}
