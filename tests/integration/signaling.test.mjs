// The signaling protocol of docs/protocol.md against the real server, over real
// WebSockets: joining, the roster, publishing (with a captured Chromium offer), the
// server's subscribe offers, mute, relay, leave, reconnect within the grace period, and
// every malformed request answered with its typed error without changing anything that
// another participant can see.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { startServer, ensureStopped, sleep } from '../lib/server.mjs';
import { SignalClient, expectError } from '../lib/signal-client.mjs';
import { createMeeting, OPEN } from '../lib/meetings.mjs';

const OFFER = readFileSync(new URL('../data/sdp/chromium-156-sendrecv-offer.sdp', import.meta.url), 'utf8');
// Meetings exist only once created (issue 7); these are created by a guest
// (--meeting-create anyone) with the waiting room off, so that everyone goes straight in:
// the waiting room and roles have their own tests (authorization, waiting-room).
const NAMES = ['fan-out', 'main', 'grace-test', 'flood-test', 'ice-restart', 'consent-test'];
const MEETING = 'main';
const meetings = {};
/** The join fields that name meeting `name`: its id and passcode. */
const M = (name) => ({ meeting: meetings[name].id, passcode: meetings[name].passcode });

let server;
before(async () => {
  server = await startServer({ args: ['--meeting-reconnect-grace', '2', '--meeting-create', 'anyone'] });
  for (const name of NAMES) meetings[name] = await createMeeting(server.origin, { settings: OPEN });
});
after(async () => ensureStopped(server));

async function joined(name, meeting = MEETING) {
  const c = await SignalClient.open(server.origin);
  const r = await c.request('join', { protocol: 1, ...M(meeting), name });
  return Object.assign(c, { me: r.participant, token: r.reconnect_token, roster: r.roster });
}

function offerMids(sdp) {
  return [...sdp.matchAll(/^m=(audio|video) .*\r?\n(?:(?!m=)[^\n]*\n)*?a=mid:(\S+)/gm)].map((m) => ({ kind: m[1], mid: m[2] }));
}

test('join is validated field by field, and nothing else works before it', async () => {
  const c = await SignalClient.open(server.origin);
  await expectError(c.request('mute', { track: 't-x', muted: true }), 'not_joined');
  await expectError(c.request('join', { ...M(MEETING), name: 'A' }), 'bad_request');
  await expectError(c.request('join', { protocol: 2, ...M(MEETING), name: 'A' }), 'unsupported_protocol');
  await expectError(c.request('join', { protocol: '1', ...M(MEETING), name: 'A' }), 'bad_request');
  await expectError(c.request('join', { protocol: 1, meeting: 'Bad Id', name: 'A' }), 'no_such_meeting');
  await expectError(c.request('join', { protocol: 1, meeting: '../etc', name: 'A' }), 'no_such_meeting');
  await expectError(c.request('join', { protocol: 1, ...M(MEETING), name: '   ' }), 'bad_request');
  await expectError(c.request('join', { protocol: 1, ...M(MEETING), name: 'a\u0007b' }), 'bad_request');
  await expectError(c.request('join', { protocol: 1, ...M(MEETING), name: 'x'.repeat(65) }), 'bad_request');
  await expectError(c.request('join', { protocol: 1, ...M(MEETING), name: 'evil\u202Eeman' }), 'bad_request');
  await expectError(c.request('join', { protocol: 1, ...M(MEETING), name: 7 }), 'bad_request');
  await expectError(c.request('join', { protocol: 1, ...M(MEETING), name: 'A', reconnect: 'nope' }), 'reconnect_expired');
  const r = await c.request('join', { protocol: 1, ...M(MEETING), name: '  Ada Lovelace  ' });
  assert.equal(r.participant.name, 'Ada Lovelace');
  assert.match(r.participant.id, /^p-[0-9a-z]{13}$/);
  assert.match(r.reconnect_token, /^[0-9a-f]{32}$/);
  assert.deepEqual(r.roster, []);
  await expectError(c.request('join', { protocol: 1, ...M(MEETING), name: 'Again' }), 'already_joined');
  await c.request('leave');
  assert.equal((await c.closed).code, 1000);
});

test('two participants: roster, publish, subscribe offer, mute, relay, leave', async () => {
  const a = await joined('Ada');
  const b = await joined('Grace');
  assert.deepEqual(b.roster.map((p) => p.id), [a.me.id]);
  const joinedEvent = await a.next('participant_joined');
  assert.equal(joinedEvent.participant.id, b.me.id);
  assert.equal(joinedEvent.participant.name, 'Grace');

  // Malformed publishes: each a typed error, and B hears nothing.
  const mids = offerMids(OFFER);
  assert.deepEqual(mids.map((m) => m.kind), ['audio', 'video']);
  const tracks = [
    { mid: mids[0].mid, kind: 'audio', source: 'microphone' },
    { mid: mids[1].mid, kind: 'video', source: 'camera' },
  ];
  await expectError(a.request('publish', { sdp: 'v=1\r\n', tracks }), 'bad_sdp');
  await expectError(a.request('publish', { sdp: OFFER }), 'bad_request');
  await expectError(a.request('publish', { sdp: OFFER, tracks: 'all' }), 'bad_request');
  await expectError(a.request('publish', { sdp: OFFER, tracks: [{ mid: '9', kind: 'audio', source: 'microphone' }] }), 'bad_request');
  await expectError(a.request('publish', { sdp: OFFER, tracks: [{ mid: mids[0].mid, kind: 'video', source: 'camera' }] }), 'bad_request');
  await expectError(a.request('publish', { sdp: OFFER, tracks: [{ mid: mids[0].mid, kind: 'audio', source: 'camera' }] }), 'bad_request');
  await expectError(a.request('publish', { sdp: OFFER, tracks: [tracks[0], tracks[0]] }), 'bad_request');
  await expectError(a.request('publish', { sdp: OFFER, tracks: Array(9).fill(tracks[0]) }), 'bad_request');
  await sleep(100);
  assert.deepEqual(b.events.filter((e) => e.event !== 'speaking'), [], 'failed requests changed nothing others can see');

  const published = await a.request('publish', { sdp: OFFER, tracks });
  assert.match(published.sdp, /^v=0\r\n/);
  assert.match(published.sdp, /a=ice-lite/);
  assert.equal(published.tracks.length, 2);
  for (const t of published.tracks) assert.match(t.id, /^t-[0-9a-z]{13}$/);
  const ev1 = await b.next('track_published');
  const ev2 = await b.next('track_published');
  const got = [ev1.track, ev2.track].sort((x, y) => x.kind.localeCompare(y.kind));
  assert.deepEqual(got.map((t) => [t.kind, t.source, t.participant]), [
    ['audio', 'microphone', a.me.id],
    ['video', 'camera', a.me.id],
  ]);
  // Publishing the same offer again keeps the track ids.
  const again = await a.request('publish', { sdp: OFFER, tracks });
  assert.deepEqual(again.tracks, published.tracks);

  const offer = await b.next('subscribe_offer');
  assert.equal(offer.version, 1);
  assert.match(offer.sdp, /a=group:BUNDLE/);
  assert.deepEqual(offer.tracks.map((t) => t.track).sort(), published.tracks.map((t) => t.id).sort());
  await expectError(b.request('subscribe_answer', { version: 7, sdp: 'v=0' }), 'stale_offer');
  await expectError(b.request('subscribe_answer', { version: 1, sdp: 'nonsense' }), 'bad_sdp');

  // Mute: others hear of it; only one's own tracks.
  const videoId = published.tracks.find((t) => t.mid === mids[1].mid).id;
  await expectError(b.request('mute', { track: videoId, muted: true }), 'unknown_track');
  await expectError(a.request('mute', { track: videoId }), 'bad_request');
  await a.request('mute', { track: videoId, muted: true });
  const muted = await b.next('track_muted');
  assert.deepEqual([muted.participant, muted.track, muted.muted], [a.me.id, videoId, true]);

  // Subscribe preferences.
  await expectError(b.request('subscribe', { track: 't-0000000000000', quality: 'high' }), 'unknown_track');
  await expectError(b.request('subscribe', { track: videoId, quality: 'ultra' }), 'bad_request');
  await expectError(b.request('subscribe', { track: videoId, quality: 'low', width: -1 }), 'bad_request');
  await b.request('subscribe', { track: videoId, quality: 'low', width: 320, height: 180 });

  // Relay: opaque, to one or to all, bounded.
  await b.request('relay', { to: a.me.id, data: { kind: 'key', blob: 'AAEC' } });
  const relayed = await a.next('relay');
  assert.deepEqual(relayed, { event: 'relay', from: b.me.id, data: { kind: 'key', blob: 'AAEC' } });
  await expectError(b.request('relay', { to: 'p-nobody', data: 1 }), 'unknown_participant');
  await expectError(b.request('relay', { to: b.me.id, data: 1 }), 'unknown_participant');
  await expectError(b.request('relay', { to: null, data: 'x'.repeat(17000) }), 'too_large');
  await expectError(b.request('relay', { to: 5, data: 1 }), 'bad_request');
  await expectError(b.request('relay', { data: 1 }), 'bad_request');

  // Unpublish: gone for B, and B's next offer no longer carries it.
  await a.request('unpublish', { track: videoId });
  const gone = await b.next('track_unpublished');
  assert.equal(gone.track, videoId);

  await a.request('leave');
  const left = await b.next('participant_left');
  assert.deepEqual([left.participant, left.reason], [a.me.id, 'left']);
  await b.close();
});

test('a fan-out relay gives each named participant its own blob, and nothing to anyone else', async () => {
  const a = await joined('Ada', 'fan-out');
  const b = await joined('Grace', 'fan-out');
  const c = await joined('Hedy', 'fan-out');
  const reply = await a.request('relay', { each: { [b.me.id]: { for: 'b' }, [c.me.id]: { for: 'c' }, 'p-gone': { for: 'x' } } });
  assert.deepEqual(reply, { skipped: ['p-gone'] });
  assert.deepEqual(await b.next('relay'), { event: 'relay', from: a.me.id, data: { for: 'b' } });
  assert.deepEqual(await c.next('relay'), { event: 'relay', from: a.me.id, data: { for: 'c' } });
  // Only one blob each: a broadcast sent afterwards is the next relay either sees.
  await a.request('relay', { to: null, data: 'after' });
  assert.equal((await b.next('relay')).data, 'after');
  assert.equal((await c.next('relay')).data, 'after');
  await expectError(a.request('relay', { each: { [b.me.id]: 'x'.repeat(17000) } }), 'too_large');
  await expectError(a.request('relay', { each: {} }), 'bad_request');
  await expectError(a.request('relay', { each: [b.me.id] }), 'bad_request');
  await expectError(a.request('relay', { each: { [b.me.id]: 1 }, to: null }), 'bad_request');
  for (const p of [a, b, c]) await p.close();
});

test('a dropped connection resumes with its token, or leaves after the grace period', async () => {
  const a = await joined('Ada', 'grace-test');
  const b = await joined('Grace', 'grace-test');
  await a.next('participant_joined');
  await a.terminate(); // no goodbye
  await sleep(300);
  const a2 = await SignalClient.open(server.origin);
  const r = await a2.request('join', { protocol: 1, ...M('grace-test'), name: 'Ada', reconnect: a.token });
  assert.equal(r.resumed, true);
  assert.equal(r.participant.id, a.me.id);
  assert.deepEqual(r.roster.map((p) => p.id), [b.me.id]);
  await sleep(2500);
  assert.equal(b.events.filter((e) => e.event === 'participant_left').length, 0, 'resumed in time');

  await a2.terminate();
  const left = await b.next('participant_left', () => true, 6000);
  assert.deepEqual([left.participant, left.reason], [a.me.id, 'disconnected']);
  const late = await SignalClient.open(server.origin);
  await expectError(late.request('join', { protocol: 1, ...M('grace-test'), name: 'Ada', reconnect: a.token }), 'reconnect_expired');
  await late.close();
  await b.close();
});

test('a flood of requests is rate limited, not served', async () => {
  const a = await joined('Flood', 'flood-test');
  const replies = await Promise.allSettled(
    Array.from({ length: 300 }, () => a.request('subscribe', { track: 't-0000000000000' })),
  );
  const codes = replies.map((r) => r.reason?.code);
  assert.ok(codes.includes('rate_limited'), 'some requests were refused');
  assert.ok(codes.includes('unknown_track'), 'the first ones were served');
  await a.close();
});

test('ICE restart: a new ufrag in a publish offer, and ice_restart for the subscribe side', async () => {
  const a = await joined('Ada', 'ice-restart');
  const b = await joined('Grace', 'ice-restart');
  const mids = offerMids(OFFER);
  const tracks = [
    { mid: mids[0].mid, kind: 'audio', source: 'microphone' },
    { mid: mids[1].mid, kind: 'video', source: 'camera' },
  ];
  const ufrag = (sdp) => /a=ice-ufrag:(\S+)/.exec(sdp)[1];
  const first = await a.request('publish', { sdp: OFFER, tracks });
  const restarted = OFFER.replace(/a=ice-ufrag:\S+/g, 'a=ice-ufrag:NeWu').replace(/a=ice-pwd:\S+/g, 'a=ice-pwd:abcdefghijklmnopqrstuvwx');
  const second = await a.request('publish', { sdp: restarted, tracks });
  assert.notEqual(ufrag(second.sdp), ufrag(first.sdp), 'new server credentials');
  assert.deepEqual(second.tracks, first.tracks, 'the same tracks');
  const third = await a.request('publish', { sdp: restarted, tracks });
  assert.equal(ufrag(third.sdp), ufrag(second.sdp), 'no restart without a new ufrag');

  const offer1 = await b.next('subscribe_offer');
  await expectError(b.request('ice_restart', { pc: 'publish' }), 'bad_request');
  await expectError(b.request('ice_restart', { pc: 'both' }), 'bad_request');
  await b.request('ice_restart', { pc: 'subscribe' });
  const offer2 = await b.next('subscribe_offer');
  assert.equal(offer2.version, offer1.version + 1);
  assert.notEqual(ufrag(offer2.sdp), ufrag(offer1.sdp));
  assert.deepEqual(offer2.tracks, offer1.tracks, 'same sections, same tracks');
  await b.request('ice_restart', { pc: 'subscribe', reset: true });
  const offer3 = await b.next('subscribe_offer');
  assert.equal(offer3.version, 1, 'a new connection starts again');
  await a.close();
  await b.close();
});

test('a publish connection that never answers consent checks ends: its tracks go, the client is told', { timeout: 60000 }, async () => {
  const a = await joined('Ada', 'consent-test');
  const b = await joined('Grace', 'consent-test');
  const mids = offerMids(OFFER);
  await a.request('publish', { sdp: OFFER, tracks: [{ mid: mids[1].mid, kind: 'video', source: 'camera' }] });
  const published = await b.next('track_published');
  // Nothing ever sends a STUN check to the transport: after the 30 s consent timeout the
  // worker closes it.
  const lost = await a.next('connection_lost', () => true, 40000);
  assert.equal(lost.pc, 'publish');
  const gone = await b.next('track_unpublished', () => true, 1000);
  assert.equal(gone.track, published.track.id);
  assert.equal(b.events.filter((e) => e.event === 'participant_left').length, 0, 'Ada is still in the meeting');
  // Publishing again makes a new connection.
  const again = await a.request('publish', { sdp: OFFER, tracks: [{ mid: mids[1].mid, kind: 'video', source: 'camera' }] });
  assert.equal(again.tracks.length, 1);
  await b.next('track_published');
  await a.close();
  await b.close();
});
