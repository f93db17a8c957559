// Getting past the waiting room without being let in (docs/protocol.md, "Joining"):
// joining before the host, every request while waiting, racing the admission, coming
// back after removal with the old token or the same browser, joining a locked meeting,
// and whether anyone in the meeting can learn of someone waiting.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { startServer, ensureStopped, sleep } from '../lib/server.mjs';
import { SignalClient, expectError } from '../lib/signal-client.mjs';
import { createMeeting, joinMeeting, signUp, openClient, joinAs } from '../lib/meetings.mjs';

const OFFER = readFileSync(new URL('../data/sdp/chromium-156-sendrecv-offer.sdp', import.meta.url), 'utf8');
const DEVICE = 'device-of-the-guest-0001';

let server;
before(async () => {
  server = await startServer({ args: ['--meeting-create', 'anyone', '--auth-signup', 'open', '--limits-join-attempts', '100000'] });
});
after(async () => ensureStopped(server));

/** Every request a joined participant could make, as someone waiting makes them. */
function everything(self) {
  return [
    ['publish', { sdp: OFFER, tracks: [] }],
    ['unpublish', { track: 't-0000000000000' }],
    ['mute', { track: 't-0000000000000', muted: false }],
    ['subscribe', { track: 't-0000000000000', quality: 'high' }],
    ['unsubscribe', { track: 't-0000000000000' }],
    ['subscribe_answer', { version: 1, sdp: OFFER }],
    ['ice_restart', { pc: 'subscribe', reset: true }],
    ['relay', { to: null, data: 'hello?' }],
    ['admit', { participant: self }],
    ['admit', { participant: 'all' }],
    ['set_settings', { settings: { waiting_room: false } }],
    ['rename', { name: 'Someone else' }],
  ];
}

test('joining before the host: waiting with nothing to see, every request refused', async () => {
  const m = await createMeeting(server.origin, {});
  const early = await joinMeeting(server.origin, m, 'Early');
  assert.equal(early.result.state, 'waiting');
  assert.equal(early.result.waiting_reason, 'host_absent');
  assert.deepEqual(early.result.roster, []);
  assert.equal(early.result.settings, null);
  assert.equal(early.result.waiting, undefined);
  for (const [type, fields] of everything(early.me.id)) {
    await expectError(early.request(type, fields), 'forbidden');
  }
  // The host arrives: with the waiting room on, Early still waits and hears nothing.
  const host = await joinMeeting(server.origin, m, 'Host', { host_key: m.host_key });
  assert.deepEqual(host.result.roster, [], 'a waiting participant is in the host’s roster');
  assert.deepEqual(host.result.waiting.map((w) => w.name), ['Early']);
  await sleep(300);
  assert.deepEqual(early.events, [], 'someone waiting received events');
  // A participant who is admitted never sees Early either.
  const other = await joinMeeting(server.origin, m, 'Other');
  await host.request('admit', { participant: other.me.id });
  const admitted = await other.next('admitted');
  assert.ok(!admitted.roster.some((p) => p.id === early.me.id));
  assert.equal(admitted.waiting, undefined, 'a participant was shown the waiting list');
  await expectError(other.request('relay', { to: early.me.id, data: 'psst' }), 'unknown_participant');
  await sleep(200);
  assert.ok(!JSON.stringify(other.events).includes(early.me.id), 'an event named the waiting participant');
  for (const c of [early, host, other]) c.terminate();
});

test('racing the admission: nothing reaches the meeting before admitted, everything after', async () => {
  const m = await createMeeting(server.origin, {});
  const host = await joinMeeting(server.origin, m, 'Host', { host_key: m.host_key });
  const guest = await joinMeeting(server.origin, m, 'Guest');
  assert.equal(guest.result.state, 'waiting');
  const replies = [];
  for (let i = 0; i < 20; i++) {
    replies.push(guest.request('relay', { to: null, data: { n: i } }).then(() => 'ok', (e) => e.code));
    if (i === 10) await host.request('admit', { participant: guest.me.id });
  }
  const codes = await Promise.all(replies);
  assert.ok(codes.every((c) => c === 'ok' || c === 'forbidden'), codes.join());
  const first = codes.indexOf('ok');
  assert.ok(first > 0, 'a relay before the admission was accepted');
  assert.ok(codes.slice(first).every((c) => c === 'ok'), `refused after admitted: ${codes}`);
  await sleep(200);
  const relayed = host.events.filter((e) => e.event === 'relay').map((e) => e.data.n);
  assert.deepEqual(relayed, codes.flatMap((c, i) => (c === 'ok' ? [i] : [])), 'the host got relays that were refused, or missed accepted ones');
  const order = guest.events.map((e) => e.event);
  assert.equal(order[0], 'admitted', `the first event to the guest was ${order[0]}`);
  host.terminate();
  guest.terminate();
});

test('removed with a ban: the old token, the same device and the same account cannot come back', async () => {
  const m = await createMeeting(server.origin, { settings: { waiting_room: false, join_before_host: true } });
  const host = await joinMeeting(server.origin, m, 'Host', { host_key: m.host_key });
  const guest = await joinMeeting(server.origin, m, 'Guest', { device: DEVICE });
  assert.equal(guest.result.state, 'admitted');
  const token = guest.token;
  await host.request('remove', { participant: guest.me.id, ban: true });
  assert.equal((await guest.next('closing')).reason, 'removed');
  assert.equal((await guest.closed).code, 4002);
  const back = await SignalClient.open(server.origin);
  await expectError(back.request('join', { protocol: 1, meeting: m.id, passcode: m.passcode, name: 'Guest', reconnect: token }), 'reconnect_expired');
  const e = await expectError(back.request('join', { protocol: 1, meeting: m.id, passcode: m.passcode, name: 'Guest', device: DEVICE }), 'forbidden');
  assert.match(e.message, /removed/);
  // Without the ban, someone removed may come back (to the waiting room if it is on).
  const other = await joinMeeting(server.origin, m, 'Other', { device: 'device-of-another-one-01' });
  await host.request('remove', { participant: other.me.id, ban: false });
  await other.closed;
  const again = await joinMeeting(server.origin, m, 'Other', { device: 'device-of-another-one-01' });
  assert.equal(again.result.state, 'admitted');
  for (const c of [host, back, again]) c.terminate();
});

test('a locked meeting takes no one, not even into the waiting room; the host may still come in', async () => {
  const m = await createMeeting(server.origin, {});
  const host = await joinMeeting(server.origin, m, 'Host', { host_key: m.host_key });
  const waiting = await joinMeeting(server.origin, m, 'Waiting');
  await host.request('set_settings', { settings: { locked: true } });
  assert.equal((await waiting.next('settings_changed')).settings.locked, true, 'those waiting hear of the lock');
  const late = await SignalClient.open(server.origin);
  await expectError(late.request('join', { protocol: 1, meeting: m.id, passcode: m.passcode, name: 'Late' }), 'locked');
  const cohost = await joinMeeting(server.origin, m, 'Host again', { host_key: m.host_key });
  assert.equal(cohost.result.role, 'cohost');
  for (const c of [host, waiting, late, cohost]) c.terminate();
});

test('a denied participant is told and closed; the host’s leaving hands over to a co-host', async () => {
  const m = await createMeeting(server.origin, {});
  const host = await joinMeeting(server.origin, m, 'Host', { host_key: m.host_key });
  const a = await joinMeeting(server.origin, m, 'A');
  const b = await joinMeeting(server.origin, m, 'B');
  await host.request('deny', { participant: b.me.id });
  await b.next('denied');
  assert.equal((await b.next('closing')).reason, 'denied');
  assert.equal((await b.closed).code, 4003);
  await host.request('admit', { participant: a.me.id });
  await a.next('admitted');
  await host.request('set_role', { participant: a.me.id, role: 'cohost' });
  await a.next('role_changed');
  await host.request('leave');
  const change = await a.next('role_changed', (e) => e.role === 'host');
  assert.equal(change.participant, a.me.id);
  a.terminate();
  host.terminate();
});

test('someone waiting gets no media: the host publishes, the waiting one hears nothing', async () => {
  const m = await createMeeting(server.origin, {});
  const host = await joinMeeting(server.origin, m, 'Host', { host_key: m.host_key });
  const guest = await joinMeeting(server.origin, m, 'Guest');
  assert.equal(guest.result.state, 'waiting');
  assert.equal(guest.result.waiting_reason, 'host_admits');
  const audioMid = /^m=audio .*\r?\n(?:(?!m=)[^\n]*\n)*?a=mid:(\S+)/m.exec(OFFER)[1];
  await host.request('publish', { sdp: OFFER, tracks: [{ mid: audioMid, kind: 'audio', source: 'microphone', muted: false }] });
  await host.request('set_settings', { settings: { chat: false } });
  // E2EE is the meeting's, fixed while it runs: a host cannot switch it off mid-meeting.
  await expectError(host.request('set_settings', { settings: { e2ee: false } }), 'bad_request');
  await host.request('relay', { to: null, data: 'to everyone' });
  await sleep(400);
  assert.deepEqual(guest.events.map((e) => e.event), [], 'someone waiting heard of the meeting');
  // Admitted, the guest learns of the host's track now, and not before.
  await host.request('admit', { participant: guest.me.id });
  const admitted = await guest.next('admitted');
  assert.equal(admitted.roster.find((p) => p.id === host.me.id)?.tracks.length, 1);
  await guest.next('subscribe_offer');
  host.terminate();
  guest.terminate();
});

test('a waiting participant who reconnects with its token is still waiting', async () => {
  const m = await createMeeting(server.origin, {});
  const host = await joinMeeting(server.origin, m, 'Host', { host_key: m.host_key });
  const guest = await joinMeeting(server.origin, m, 'Guest');
  assert.equal(guest.result.state, 'waiting');
  await guest.terminate();
  const back = await openClient(server.origin);
  const r = await joinAs(back, { meeting: m, name: 'Guest', reconnect: guest.token });
  assert.equal(r.resumed, true);
  assert.equal(r.participant.id, guest.me.id);
  assert.equal(r.state, 'waiting', 'a reconnect got past the waiting room');
  assert.deepEqual(r.roster, []);
  assert.equal(r.settings, null);
  await expectError(back.request('relay', { to: null, data: 'x' }), 'forbidden');
  for (const c of [host, back]) c.terminate();
});

test('a ban holds for the signed-in account, from another browser and another device id', async () => {
  const m = await createMeeting(server.origin, { settings: { waiting_room: false, join_before_host: true } });
  const host = await joinMeeting(server.origin, m, 'Host', { host_key: m.host_key });
  const who = await signUp(server.origin, { email: `banned-${Date.now()}@example.org`, name: 'Mallory' });
  const mallory = await joinMeeting(server.origin, m, 'Mallory', { cookie: who.cookie, device: 'mallorys-first-browser' });
  assert.equal(mallory.result.state, 'admitted');
  await host.request('remove', { participant: mallory.me.id, ban: true });
  await mallory.closed;
  const again = await openClient(server.origin, { cookie: who.cookie });
  const e = await expectError(joinAs(again, { meeting: m, name: 'Not Mallory', device: 'a-whole-new-browser-01' }), 'forbidden');
  assert.match(e.message, /removed/);
  // The ban is this meeting's, and this account's: a stranger still gets in.
  const stranger = await joinMeeting(server.origin, m, 'Stranger', { device: 'a-whole-new-browser-01' });
  assert.equal(stranger.result.state, 'admitted');
  for (const c of [host, again, stranger]) c.terminate();
});
