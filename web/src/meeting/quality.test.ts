import { describe, expect, test } from 'vitest';
import {
  IMPROVE_AFTER,
  MIN_PACKETS,
  SHOWN_GRACE_MS,
  WORSEN_AFTER,
  aggregateRemote,
  classifyQuality,
  counterDelta,
  inboundCounters,
  initialTrack,
  noteVideoShown,
  outboundSample,
  shownLongEnough,
  smoothQuality,
  type NetworkQuality,
  type QualitySample,
  type RtpCounters,
} from './quality';

const sample = (s: Partial<QualitySample>): QualitySample => ({
  loss: 0,
  jitterMs: 5,
  rttMs: 40,
  paused: false,
  limited: false,
  ...s,
});

describe('classifyQuality', () => {
  test('loss: under 2 % good, from 2 % fair, from 10 % poor', () => {
    expect(classifyQuality(sample({ loss: 0.019 }))).toBe('good');
    expect(classifyQuality(sample({ loss: 0.02 }))).toBe('fair');
    expect(classifyQuality(sample({ loss: 0.099 }))).toBe('fair');
    expect(classifyQuality(sample({ loss: 0.1 }))).toBe('poor');
  });
  test('round trip: under 300 ms good, from 300 fair, from 600 poor', () => {
    expect(classifyQuality(sample({ rttMs: 299 }))).toBe('good');
    expect(classifyQuality(sample({ rttMs: 300 }))).toBe('fair');
    expect(classifyQuality(sample({ rttMs: 600 }))).toBe('poor');
  });
  test('jitter: from 30 ms fair, from 100 ms poor', () => {
    expect(classifyQuality(sample({ jitterMs: 29 }))).toBe('good');
    expect(classifyQuality(sample({ jitterMs: 30 }))).toBe('fair');
    expect(classifyQuality(sample({ jitterMs: 100 }))).toBe('poor');
  });
  test('a paused video is poor; a bandwidth-limited encoder or repeated freezes fair', () => {
    expect(classifyQuality(sample({ paused: true }))).toBe('poor');
    expect(classifyQuality(sample({ limited: true }))).toBe('fair');
    expect(classifyQuality(sample({ freezes: 1 }))).toBe('good');
    expect(classifyQuality(sample({ freezes: 2 }))).toBe('fair');
  });
  test('the worst signal decides', () => {
    expect(classifyQuality(sample({ loss: 0.03, rttMs: 700 }))).toBe('poor');
  });
  test('no data at all is unknown; any one signal is enough', () => {
    expect(classifyQuality({ loss: null, jitterMs: null, rttMs: null, paused: false, limited: false })).toBe('unknown');
    expect(classifyQuality({ loss: null, jitterMs: null, rttMs: 20, paused: false, limited: false })).toBe('good');
    expect(classifyQuality({ loss: null, jitterMs: null, rttMs: null, paused: true, limited: false })).toBe('poor');
  });
});

describe('smoothQuality (hysteresis)', () => {
  const run = (levels: NetworkQuality[]) => {
    let tr = initialTrack;
    return levels.map((q) => (tr = smoothQuality(tr, q)).shown);
  };
  test('the first known value is shown at once', () => {
    expect(run(['unknown', 'fair'])).toEqual(['unknown', 'fair']);
  });
  test('one bad sample does not flip it; two in a row do', () => {
    expect(WORSEN_AFTER).toBe(2);
    expect(run(['good', 'poor', 'good', 'poor', 'good'])).toEqual(['good', 'good', 'good', 'good', 'good']);
    expect(run(['good', 'poor', 'poor'])).toEqual(['good', 'good', 'poor']);
  });
  test('a run of mixed bad samples moves only as far as all of them agree', () => {
    expect(run(['good', 'poor', 'fair'])).toEqual(['good', 'good', 'fair']);
  });
  test('recovering takes three good samples in a row', () => {
    expect(IMPROVE_AFTER).toBe(3);
    expect(run(['poor', 'good', 'good', 'good'])).toEqual(['poor', 'poor', 'poor', 'good']);
    expect(run(['poor', 'good', 'good', 'poor', 'good', 'good'])).toEqual(['poor', 'poor', 'poor', 'poor', 'poor', 'poor']);
    expect(run(['poor', 'good', 'fair', 'good'])).toEqual(['poor', 'poor', 'poor', 'fair']);
  });
  test('data that stops is forgotten after two empty samples', () => {
    expect(run(['good', 'unknown', 'good', 'unknown', 'unknown'])).toEqual(['good', 'good', 'good', 'good', 'unknown']);
  });
});

const rtp = (key: string, packetsReceived: number, packetsLost: number, extra: Partial<RtpCounters> = {}): RtpCounters => ({
  key,
  participant: 'p1',
  kind: 'audio',
  packetsReceived,
  packetsLost,
  ...extra,
});

describe('loss from counter deltas', () => {
  test('the interval counts, not the totals', () => {
    expect(counterDelta(rtp('a', 1000, 500), rtp('a', 1100, 505))).toEqual({ lost: 5, received: 100 });
    expect(counterDelta(undefined, rtp('a', 100, 0))).toBeNull();
  });
  test('counters that go backwards (a replaced receiver) give no delta', () => {
    expect(counterDelta(rtp('a', 5000, 40), rtp('a', 90, 0))).toBeNull();
  });
  test('late packets lowering packetsLost count as no loss, not negative loss', () => {
    expect(counterDelta(rtp('a', 1000, 10), rtp('a', 1100, 8))).toEqual({ lost: 0, received: 100 });
  });
  test('per participant: every stream of theirs summed', () => {
    const prev = new Map([
      ['mic', rtp('mic', 1000, 0)],
      ['cam', rtp('cam', 5000, 0, { kind: 'video' })],
    ]);
    const agg = aggregateRemote(prev, [rtp('mic', 1090, 10), rtp('cam', 5300, 0, { kind: 'video' })]);
    // 10 lost of 10 + 90 + 300.
    expect(agg.get('p1')!.loss).toBeCloseTo(10 / 400, 10);
  });
  test('a transceiver reused for another track starts a new baseline instead of a bogus delta', () => {
    // Same mid, new track and SSRC: a new key. Its first reading has no delta; the old
    // stream's key is simply gone.
    const prev = new Map([['t-old/111', rtp('t-old/111', 9000, 900)]]);
    const first = aggregateRemote(prev, [rtp('t-new/222', 80, 20)]);
    expect(first.get('p1')!.loss).toBeNull();
    const second = aggregateRemote(new Map([['t-new/222', rtp('t-new/222', 80, 20)]]), [rtp('t-new/222', 180, 20)]);
    expect(second.get('p1')!.loss).toBe(0);
  });
  test('too few packets give no loss figure', () => {
    const agg = aggregateRemote(new Map([['a', rtp('a', 100, 0)]]), [rtp('a', 100 + MIN_PACKETS - 2, 1)]);
    expect(agg.get('p1')!.loss).toBeNull();
  });
  test('jitter from audio when there is audio, in ms; freezes from the delta', () => {
    const prev = new Map([
      ['mic', rtp('mic', 100, 0, { jitter: 0.01 })],
      ['cam', rtp('cam', 100, 0, { kind: 'video', jitter: 0.09, freezeCount: 4 })],
    ]);
    const agg = aggregateRemote(prev, [
      rtp('mic', 200, 0, { jitter: 0.012 }),
      rtp('cam', 300, 0, { kind: 'video', jitter: 0.08, freezeCount: 6 }),
    ]);
    expect(agg.get('p1')!.jitterMs).toBeCloseTo(12, 6);
    expect(agg.get('p1')!.freezes).toBe(2);
  });
  test('a video that receives nothing (paused) does not lend its stale jitter', () => {
    const prev = new Map([['cam', rtp('cam', 300, 0, { kind: 'video', jitter: 0.2 })]]);
    const agg = aggregateRemote(prev, [rtp('cam', 300, 0, { kind: 'video', jitter: 0.2 })]);
    expect(agg.get('p1')!.jitterMs).toBeNull();
  });
});

describe('stats attribution', () => {
  const stats = [
    { type: 'inbound-rtp', id: 'IA1', kind: 'audio', mid: '0', ssrc: 11, packetsReceived: 50, packetsLost: 1, jitter: 0.004 },
    { type: 'inbound-rtp', id: 'IV2', kind: 'video', mid: '1', ssrc: 22, packetsReceived: 400, packetsLost: 3, freezeCount: 1 },
    { type: 'inbound-rtp', id: 'IV3', kind: 'video', trackIdentifier: 'media-x', ssrc: 33, packetsReceived: 9, packetsLost: 0 },
    { type: 'inbound-rtp', id: 'IV4', kind: 'video', mid: '7', ssrc: 44, packetsReceived: 9, packetsLost: 0 },
    { type: 'outbound-rtp', id: 'O', kind: 'video', mid: '0' },
  ];
  const byMid = new Map([
    ['0', 't-a'],
    ['1', 't-v'],
  ]);
  const byIdent = new Map([['media-x', 't-x']]);
  const owner = (id: string) => ({ 't-a': 'ada', 't-v': 'ada', 't-x': 'grace' })[id];
  test('inbound-rtp maps through mid (or the track identifier) to the track and its owner', () => {
    const c = inboundCounters(stats, byMid, byIdent, owner);
    expect(c).toEqual([
      { key: 't-a/11', participant: 'ada', kind: 'audio', packetsReceived: 50, packetsLost: 1, jitter: 0.004, freezeCount: undefined },
      { key: 't-v/22', participant: 'ada', kind: 'video', packetsReceived: 400, packetsLost: 3, jitter: undefined, freezeCount: 1 },
      { key: 't-x/33', participant: 'grace', kind: 'video', packetsReceived: 9, packetsLost: 0, jitter: undefined, freezeCount: undefined },
    ]);
  });
  test('our own sending: worst fraction lost and round trip reported back, bandwidth limit', () => {
    const s = outboundSample([
      { type: 'remote-inbound-rtp', id: 'RA', kind: 'audio', fractionLost: 0.01, roundTripTime: 0.05 },
      { type: 'remote-inbound-rtp', id: 'RV', kind: 'video', fractionLost: 0.04, roundTripTime: 0.08 },
      { type: 'outbound-rtp', id: 'OV', kind: 'video', qualityLimitationReason: 'bandwidth' },
      { type: 'candidate-pair', id: 'CP', nominated: true, state: 'succeeded', currentRoundTripTime: 0.5 },
    ]);
    expect(s.loss).toBe(0.04);
    expect(s.rttMs).toBeCloseTo(80, 6);
    expect(s.limited).toBe(true);
    expect(classifyQuality(s)).toBe('fair');
  });
  test('without receiver reports, the candidate pair round trip is used', () => {
    const s = outboundSample([
      { type: 'outbound-rtp', id: 'OV', kind: 'video', qualityLimitationReason: 'none' },
      { type: 'candidate-pair', id: 'CP', nominated: true, state: 'succeeded', currentRoundTripTime: 0.4 },
    ]);
    expect(s).toEqual({ loss: null, jitterMs: null, rttMs: 400, paused: false, limited: false });
    expect(classifyQuality(s)).toBe('fair');
  });
});

describe('which videos are shown', () => {
  test('a pause counts only once the video has been asked for long enough', () => {
    const session = {};
    noteVideoShown(session, 't1', true, 1000);
    expect(shownLongEnough(session, 't1', 1000 + SHOWN_GRACE_MS - 1)).toBe(false);
    expect(shownLongEnough(session, 't1', 1000 + SHOWN_GRACE_MS)).toBe(true);
    noteVideoShown(session, 't1', true, 9000); // still shown: keeps its start
    expect(shownLongEnough(session, 't1', 1000 + SHOWN_GRACE_MS)).toBe(true);
    noteVideoShown(session, 't1', false, 9000);
    expect(shownLongEnough(session, 't1', 99999)).toBe(false);
    expect(shownLongEnough({}, 't1', 99999)).toBe(false);
  });
});
