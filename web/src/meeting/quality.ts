// Network quality per participant, for the three bars on each tile. Sampled from
// getStats() every 2 s while joined:
// - remote people: the subscribe connection's inbound-rtp (audio and video) of their
//   tracks: loss over the interval from the packetsLost/packetsReceived deltas, jitter,
//   video freezes; plus the subscribe connection's round-trip time, and whether the
//   server paused one of their videos we are showing (layer -1: our downlink cannot
//   carry it). This is the path them → server → us, which is what we experience of them.
// - ourselves: the publish connection's remote-inbound-rtp (fractionLost and
//   roundTripTime from the server's receiver reports) and whether the encoder is limited
//   by bandwidth (outbound-rtp qualityLimitationReason).
// classifyQuality turns one sample into a level; smoothQuality adds hysteresis so that
// one bad interval does not flip an indicator.
import { useEffect, useRef, useState } from 'preact/hooks';
import type { MeetingSession, MeetingState } from '../session';

export type NetworkQuality = 'good' | 'fair' | 'poor' | 'unknown';

export interface QualitySample {
  /** Fraction of packets lost over the interval (0…1), null without enough packets. */
  loss: number | null;
  jitterMs: number | null;
  rttMs: number | null;
  /** A video of theirs we show is paused by the server (bandwidth). */
  paused: boolean;
  /** Our encoder is held back by the available bandwidth. */
  limited: boolean;
  /** Video freezes over the interval (inbound-rtp freezeCount delta). */
  freezes?: number;
}

/**
 * Thresholds, chosen from what people notice in a call:
 * - loss: below 2 % FEC/NACK hide it (good); from 10 % audio breaks up (poor);
 * - round trip: below 300 ms conversation flows; from 600 ms people talk over each other;
 * - jitter: above 30 ms the jitter buffer adds noticeable delay, above 100 ms it drops
 *   audio;
 * - a paused video is poor (we cannot see them); a bandwidth-limited encoder, or two or
 *   more freezes in one interval, is fair. (One freeze alone is what resuming a video we
 *   had paused looks like.)
 */
export const QUALITY_THRESHOLDS = {
  fairLoss: 0.02,
  poorLoss: 0.1,
  fairRttMs: 300,
  poorRttMs: 600,
  fairJitterMs: 30,
  poorJitterMs: 100,
  fairFreezes: 2,
} as const;

export function classifyQuality(s: QualitySample): NetworkQuality {
  const T = QUALITY_THRESHOLDS;
  if (s.paused) return 'poor';
  if (s.loss === null && s.rttMs === null && s.jitterMs === null && !s.limited) return 'unknown';
  const loss = s.loss ?? 0;
  const rtt = s.rttMs ?? 0;
  const jitter = s.jitterMs ?? 0;
  if (loss >= T.poorLoss || rtt >= T.poorRttMs || jitter >= T.poorJitterMs) return 'poor';
  if (loss >= T.fairLoss || rtt >= T.fairRttMs || jitter >= T.fairJitterMs || s.limited || (s.freezes ?? 0) >= T.fairFreezes) {
    return 'fair';
  }
  return 'good';
}

// ---------------------------------------------------------------- hysteresis

/** Consecutive samples needed before the shown level moves: down quickly enough to be
 *  useful (4 s), up more slowly (6 s) so that a flapping link stays marked. */
export const WORSEN_AFTER = 2;
export const IMPROVE_AFTER = 3;

const RANK: Record<Exclude<NetworkQuality, 'unknown'>, number> = { poor: 0, fair: 1, good: 2 };
const BY_RANK: Exclude<NetworkQuality, 'unknown'>[] = ['poor', 'fair', 'good'];

export interface QualityTrack {
  shown: NetworkQuality;
  /** -1: a run of worse samples, +1: better, 0: none. */
  dir: -1 | 0 | 1;
  count: number;
  /** The level of the run closest to `shown` (how far the evidence goes). */
  bound: NetworkQuality;
}

export const initialTrack: QualityTrack = { shown: 'unknown', dir: 0, count: 0, bound: 'unknown' };

export function smoothQuality(prev: QualityTrack, sample: NetworkQuality): QualityTrack {
  // Nothing shown yet: show the first real value at once, there is nothing to flicker.
  if (prev.shown === 'unknown') {
    return sample === 'unknown' ? initialTrack : { shown: sample, dir: 0, count: 0, bound: sample };
  }
  if (sample === prev.shown) return { shown: prev.shown, dir: 0, count: 0, bound: prev.shown };
  if (sample === 'unknown') {
    // Data stopped (e.g. no packets): forget the level after a few intervals, not at once.
    const count = prev.bound === 'unknown' ? prev.count + 1 : 1;
    return count >= WORSEN_AFTER ? initialTrack : { shown: prev.shown, dir: 0, count, bound: 'unknown' };
  }
  const dir: -1 | 1 = RANK[sample] < RANK[prev.shown] ? -1 : 1;
  const continuing = prev.dir === dir && prev.bound !== 'unknown';
  const count = continuing ? prev.count + 1 : 1;
  // Move only as far as every sample of the run agrees: good → (poor, fair) is fair.
  const bound =
    continuing && prev.bound !== 'unknown'
      ? BY_RANK[dir < 0 ? Math.max(RANK[prev.bound], RANK[sample]) : Math.min(RANK[prev.bound], RANK[sample])]
      : sample;
  if (count >= (dir < 0 ? WORSEN_AFTER : IMPROVE_AFTER)) return { shown: bound, dir: 0, count: 0, bound };
  return { shown: prev.shown, dir, count, bound };
}

// ---------------------------------------------------------------- counters

/** One inbound RTP stream's cumulative counters, attributed to a participant. */
export interface RtpCounters {
  /** Identifies the stream: track id and SSRC (a reused mid carries a new SSRC). */
  key: string;
  participant: string;
  kind: 'audio' | 'video';
  packetsReceived: number;
  packetsLost: number;
  /** Seconds, as getStats reports it. */
  jitter?: number;
  freezeCount?: number;
}

/** Packets lost and received between two readings of the same stream; null when there is
 *  no earlier reading or the counters went backwards (the receiver was replaced). */
export function counterDelta(prev: RtpCounters | undefined, cur: RtpCounters): { lost: number; received: number } | null {
  if (!prev) return null;
  const received = cur.packetsReceived - prev.packetsReceived;
  if (received < 0) return null;
  // packetsLost (expected − received) steps back when late or duplicate packets arrive.
  return { lost: Math.max(0, cur.packetsLost - prev.packetsLost), received };
}

/** Below this many packets in an interval a loss fraction means little. */
export const MIN_PACKETS = 20;

export interface RemoteAggregate {
  loss: number | null;
  jitterMs: number | null;
  freezes: number;
}

/**
 * Per participant, over all their streams: loss = Σlost / (Σlost + Σreceived) of the
 * deltas since `prev`; jitter of their audio (video jitter reflects frame bursts more
 * than the network) or else of their video; freezes summed.
 */
export function aggregateRemote(prev: ReadonlyMap<string, RtpCounters>, current: readonly RtpCounters[]): Map<string, RemoteAggregate> {
  const acc = new Map<string, { lost: number; received: number; audioJ: number | null; videoJ: number | null; freezes: number }>();
  for (const c of current) {
    let a = acc.get(c.participant);
    if (!a) acc.set(c.participant, (a = { lost: 0, received: 0, audioJ: null, videoJ: null, freezes: 0 }));
    const before = prev.get(c.key);
    const d = counterDelta(before, c);
    if (d) {
      a.lost += d.lost;
      a.received += d.received;
      if (before && c.freezeCount !== undefined && before.freezeCount !== undefined) {
        a.freezes += Math.max(0, c.freezeCount - before.freezeCount);
      }
    }
    // Jitter only from streams that are flowing now: a paused video keeps its last value.
    if (c.jitter !== undefined && d && d.received > 0) {
      const ms = c.jitter * 1000;
      if (c.kind === 'audio') a.audioJ = Math.max(a.audioJ ?? 0, ms);
      else a.videoJ = Math.max(a.videoJ ?? 0, ms);
    }
  }
  const out = new Map<string, RemoteAggregate>();
  for (const [p, a] of acc) {
    const total = a.lost + a.received;
    out.set(p, { loss: total >= MIN_PACKETS ? a.lost / total : null, jitterMs: a.audioJ ?? a.videoJ, freezes: a.freezes });
  }
  return out;
}

type Stat = Record<string, unknown> & { type: string; id: string };

const num = (v: unknown): number | undefined => (typeof v === 'number' && Number.isFinite(v) ? v : undefined);

/**
 * inbound-rtp entries of the subscribe connection, attributed through mid → track id
 * (`trackByMid`, from the transceivers) or the receiver track's id (`trackByIdentifier`),
 * then track id → participant (`owner`). Streams of unknown tracks are left out.
 */
export function inboundCounters(
  stats: Iterable<Stat>,
  trackByMid: ReadonlyMap<string, string>,
  trackByIdentifier: ReadonlyMap<string, string>,
  owner: (trackId: string) => string | undefined,
): RtpCounters[] {
  const out: RtpCounters[] = [];
  for (const s of stats) {
    if (s.type !== 'inbound-rtp' || (s.kind !== 'audio' && s.kind !== 'video')) continue;
    const mid = typeof s.mid === 'string' ? s.mid : undefined;
    const ident = typeof s.trackIdentifier === 'string' ? s.trackIdentifier : undefined;
    const trackId = (mid !== undefined ? trackByMid.get(mid) : undefined) ?? (ident !== undefined ? trackByIdentifier.get(ident) : undefined);
    if (!trackId) continue;
    const participant = owner(trackId);
    if (!participant) continue;
    out.push({
      key: `${trackId}/${String(s.ssrc ?? s.id)}`,
      participant,
      kind: s.kind,
      packetsReceived: num(s.packetsReceived) ?? 0,
      packetsLost: num(s.packetsLost) ?? 0,
      jitter: num(s.jitter),
      freezeCount: num(s.freezeCount),
    });
  }
  return out;
}

/** Our own sending: worst fractionLost and round trip the server reports back, and
 *  whether any encoder is limited by bandwidth. */
export function outboundSample(stats: Iterable<Stat>): QualitySample {
  let loss: number | null = null;
  let rtt: number | null = null;
  let pairRtt: number | null = null;
  let limited = false;
  for (const s of stats) {
    if (s.type === 'remote-inbound-rtp') {
      const f = num(s.fractionLost);
      if (f !== undefined) loss = Math.max(loss ?? 0, f);
      const r = num(s.roundTripTime);
      if (r !== undefined) rtt = Math.max(rtt ?? 0, r * 1000);
    } else if (s.type === 'outbound-rtp') {
      if (s.qualityLimitationReason === 'bandwidth') limited = true;
    } else if (s.type === 'candidate-pair' && s.nominated === true && s.state === 'succeeded') {
      const r = num(s.currentRoundTripTime);
      if (r !== undefined) pairRtt = r * 1000;
    }
  }
  return { loss, jitterMs: null, rttMs: rtt ?? pairRtt, paused: false, limited };
}

function pairRttMs(stats: Iterable<Stat>): number | null {
  for (const s of stats) {
    if (s.type === 'candidate-pair' && s.nominated === true && s.state === 'succeeded') {
      const r = num(s.currentRoundTripTime);
      if (r !== undefined) return r * 1000;
    }
  }
  return null;
}

// ---------------------------------------------------------------- which videos are shown

/** How long a video must have been asked for before "paused" means the server could not
 *  send it rather than that our request to resume is still on its way. */
export const SHOWN_GRACE_MS = 2500;

const shownSince = new WeakMap<object, Map<string, number>>();

/** Tiles say whether they show a remote video (with a size) or not, so that a pause we
 *  asked for ourselves (tile scrolled away) is not taken for a bad connection. */
export function noteVideoShown(session: object, trackId: string, shown: boolean, now = Date.now()): void {
  let m = shownSince.get(session);
  if (!m) shownSince.set(session, (m = new Map()));
  if (!shown) m.delete(trackId);
  else if (!m.has(trackId)) m.set(trackId, now);
}

/** True when the tile of `trackId` has been shown for at least SHOWN_GRACE_MS. */
export function shownLongEnough(session: object, trackId: string, now = Date.now()): boolean {
  const since = shownSince.get(session)?.get(trackId);
  return since !== undefined && now - since >= SHOWN_GRACE_MS;
}

// ---------------------------------------------------------------- sampling

export const POLL_MS = 2000;

/** Keeps the previous counters and the smoothed level per participant between polls. */
export class QualityMonitor {
  private prev = new Map<string, RtpCounters>();
  private sub: RTCPeerConnection | null = null;
  private tracks = new Map<string, QualityTrack>();

  async sample(session: MeetingSession, state: MeetingState): Promise<Map<string, NetworkQuality>> {
    const samples = new Map<string, QualitySample>();
    const sub = session.subscribePc;
    if (sub !== this.sub) {
      // A new subscribe connection starts its counters from zero.
      this.sub = sub;
      this.prev = new Map();
    }
    if (sub && sub.connectionState !== 'closed') {
      const report = [...((await sub.getStats()) as unknown as Map<string, Stat>).values()];
      const byMid = new Map<string, string>();
      const byIdent = new Map<string, string>();
      const idOf = new Map<MediaStreamTrack, string>();
      for (const [id, media] of state.remoteTracks) {
        idOf.set(media, id);
        byIdent.set(media.id, id);
      }
      for (const t of sub.getTransceivers()) {
        const id = t.mid !== null ? idOf.get(t.receiver.track) : undefined;
        if (id) byMid.set(t.mid!, id);
      }
      const counters = inboundCounters(report, byMid, byIdent, (id) => state.tracks.get(id)?.participant);
      const agg = aggregateRemote(this.prev, counters);
      this.prev = new Map(counters.map((c) => [c.key, c]));
      const rtt = pairRttMs(report);
      for (const p of state.participants.values()) {
        const a = agg.get(p.id);
        const paused = p.tracks.some(
          (t) => t.kind === 'video' && !t.muted && state.layers.get(t.id) === -1 && shownLongEnough(session, t.id),
        );
        samples.set(p.id, {
          loss: a?.loss ?? null,
          jitterMs: a?.jitterMs ?? null,
          rttMs: a ? rtt : null,
          paused,
          limited: false,
          freezes: a?.freezes ?? 0,
        });
      }
    }
    const pub = session.publishPc;
    if (state.self && pub && pub.connectionState !== 'closed') {
      const report = [...((await pub.getStats()) as unknown as Map<string, Stat>).values()];
      samples.set(state.self.id, outboundSample(report));
    }
    const out = new Map<string, NetworkQuality>();
    const next = new Map<string, QualityTrack>();
    for (const [id, s] of samples) {
      const tr = smoothQuality(this.tracks.get(id) ?? initialTrack, classifyQuality(s));
      next.set(id, tr);
      if (tr.shown !== 'unknown') out.set(id, tr.shown);
    }
    this.tracks = next; // people who left are forgotten
    return out;
  }
}

const EMPTY: ReadonlyMap<string, NetworkQuality> = new Map();

function sameMap(a: ReadonlyMap<string, NetworkQuality>, b: ReadonlyMap<string, NetworkQuality>): boolean {
  if (a.size !== b.size) return false;
  for (const [k, v] of a) if (b.get(k) !== v) return false;
  return true;
}

/** Network quality by participant id (us included), polled every 2 s while joined;
 *  participants without data are absent. The map changes identity only when a level
 *  changes, so tiles re-render only then. */
export function useNetworkQuality(session: MeetingSession, state: MeetingState): ReadonlyMap<string, NetworkQuality> {
  const [out, setOut] = useState<ReadonlyMap<string, NetworkQuality>>(EMPTY);
  const latest = useRef(state);
  latest.current = state;
  const joined = state.phase === 'joined';
  useEffect(() => {
    if (!joined) {
      setOut(EMPTY);
      return;
    }
    const monitor = new QualityMonitor();
    let stopped = false;
    let busy = false;
    const tick = async () => {
      if (busy) return; // getStats slower than the interval: skip, do not pile up
      busy = true;
      try {
        const next = await monitor.sample(session, latest.current);
        if (!stopped) setOut((prev) => (sameMap(prev, next) ? prev : next));
      } catch {
        // A connection closed under us: the next poll sees the new one.
      } finally {
        busy = false;
      }
    };
    const timer = setInterval(tick, POLL_MS);
    void tick();
    return () => {
      stopped = true;
      clearInterval(timer);
    };
  }, [session, joined]);
  return out;
}
