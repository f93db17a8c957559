// Guessing passcodes and meeting ids from one address (docs/security.md): after the
// configured number of failures every attempt is refused with too_many_attempts until the
// wait is over, the right passcode included; a meeting that does not exist and a wrong
// passcode answer byte for byte alike; the attempts are counted in /metrics.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, ensureStopped, sleep } from '../lib/server.mjs';
import { SignalClient } from '../lib/signal-client.mjs';
import { createMeeting } from '../lib/meetings.mjs';

const FAILURES = 5;
let limitedGrowth = null;

/** One conclave_attempts_total series from /metrics (0 when absent). */
async function metric(kind, outcome) {
  const text = await (await fetch(server.url('/metrics'), { signal: AbortSignal.timeout(5000) })).text();
  const m = new RegExp(`^conclave_attempts_total\\{kind="${kind}",outcome="${outcome}"\\} (\\d+)`, 'm').exec(text);
  return Number(m?.[1] ?? 0);
}
let server;
before(async () => {
  server = await startServer({
    args: ['--meeting-create', 'anyone', '--limits-passcode-failures', String(FAILURES), '--limits-backoff-max', '2', '--limits-window', '1'],
  });
});
after(async () => ensureStopped(server));

/** The raw reply to one join, as text. */
async function rawJoin(c, meeting, passcode) {
  return new Promise((resolve, reject) => {
    const id = Math.floor(Math.random() * 1e9);
    const timer = setTimeout(() => reject(new Error('no reply')), 5000);
    const onMessage = (data) => {
      const text = data.toString();
      if (JSON.parse(text).id !== id) return;
      clearTimeout(timer);
      c.ws.off('message', onMessage);
      resolve(text.replace(`"id":${id}`, '"id":0'));
    };
    c.ws.on('message', onMessage);
    c.ws.send(JSON.stringify({ id, type: 'join', protocol: 1, meeting, name: 'Guesser', passcode }));
  });
}

test('no such meeting and a wrong passcode cannot be told apart', async () => {
  const m = await createMeeting(server.origin, {});
  const c = await SignalClient.open(server.origin);
  const wrong = await rawJoin(c, m.id, 'aaaaaaaaaa');
  const none = await rawJoin(c, 'zzzz-zzzz-zzzz-zzzz', 'aaaaaaaaaa');
  const malformed = await rawJoin(c, 'Not An Id', 'aaaaaaaaaa');
  assert.equal(wrong, none);
  assert.equal(wrong, malformed);
  assert.match(wrong, /"code":"no_such_meeting"/);
  c.terminate();
  await sleep(2100); // let this address's failures run out before the next test
});

test('a bounded loop of wrong passcodes gets limited after the configured count; success stays zero', async () => {
  const m = await createMeeting(server.origin, {});
  const c = await SignalClient.open(server.origin);
  const before = await metric('passcode', 'limited');
  const outcomes = [];
  const started = Date.now();
  for (let i = 0; i < 40 && Date.now() - started < 20000; i++) {
    const guess = `guess${String(i).padStart(5, '0')}`;
    try {
      await c.request('join', { protocol: 1, meeting: m.id, name: 'Guesser', passcode: guess });
      outcomes.push('joined');
      break;
    } catch (e) {
      outcomes.push(e.code);
      if (e.code === 'too_many_attempts') {
        const n = /^too many attempts, try again in (\d+) s$/.exec(e.message);
        assert.ok(n && Number(n[1]) > 0, e.message);
      }
    }
  }
  assert.ok(!outcomes.includes('joined'), 'a guess got in');
  const firstLimited = outcomes.indexOf('too_many_attempts');
  assert.ok(firstLimited >= FAILURES && firstLimited <= FAILURES + 1, `first limited at attempt ${firstLimited + 1}: ${outcomes}`);
  assert.ok(outcomes.slice(firstLimited).every((o) => o === 'too_many_attempts'), `${outcomes}`);

  // Limited means limited: the right passcode is refused too, with how long to wait.
  let refused;
  try {
    await c.request('join', { protocol: 1, meeting: m.id, name: 'Guesser', passcode: m.passcode });
  } catch (e) {
    refused = e;
  }
  assert.equal(refused?.code, 'too_many_attempts');

  // The raw error carries retry_after; after it, the right passcode gets in.
  const raw = JSON.parse(await rawJoin(c, m.id, m.passcode));
  assert.equal(raw.error.code, 'too_many_attempts');
  assert.ok(raw.error.retry_after >= 1 && raw.error.retry_after <= 2, JSON.stringify(raw));
  assert.equal(raw.error.message, `too many attempts, try again in ${raw.error.retry_after} s`);
  limitedGrowth = (await metric('passcode', 'limited')) - before;
  await sleep(raw.error.retry_after * 1000 + 100);
  const ok = await c.request('join', { protocol: 1, meeting: m.id, name: 'Guesser', passcode: m.passcode });
  assert.equal(ok.meeting, m.id);
  c.terminate();

  const metrics = await (await fetch(server.url('/metrics'))).text();
  const value = (kind, outcome) =>
    Number(new RegExp(`^conclave_attempts_total\\{kind="${kind}",outcome="${outcome}"\\} (\\d+)`, 'm').exec(metrics)?.[1] ?? 0);
  assert.ok(value('passcode', 'failed') >= outcomes.filter((o) => o === 'no_such_meeting').length);
  assert.ok(value('passcode', 'limited') >= 2, metrics);
});

// docs/protocol.md "Attempt limits": outcomes are counted per kind, and a join refused
// because this address guessed too many passcodes is a limited passcode attempt.
test('limited passcode guesses are counted as kind="passcode", outcome="limited"', () => {
  assert.ok(limitedGrowth !== null, 'the loop test did not get that far');
  assert.ok(limitedGrowth > 0, `conclave_attempts_total{kind="passcode",outcome="limited"} grew by ${limitedGrowth}`);
});

test('a wrong passcode and a meeting that does not exist take about the same time', async () => {
  await sleep(2100); // a fresh window for this address
  const m = await createMeeting(server.origin, {});
  const c = await SignalClient.open(server.origin);
  const time = async (meeting) => {
    const t = process.hrtime.bigint();
    const reply = await rawJoin(c, meeting, 'bbbbbbbbbb');
    assert.match(reply, /no_such_meeting/);
    return Number(process.hrtime.bigint() - t) / 1e6;
  };
  // Alternating, FAILURES - 1 tries in all so that the limit never answers instead.
  const wrong = [];
  const none = [];
  for (let i = 0; i < FAILURES - 1; i++) (i % 2 ? none : wrong).push(await time(i % 2 ? 'zzzz-zzzz-zzzz-zzz0' : m.id));
  const median = (a) => a.sort((x, y) => x - y)[Math.floor(a.length / 2)];
  // A stored hash is checked either way (argon2/sha): a missing meeting must not answer
  // an order of magnitude faster. Loose bounds: loopback timing is noisy.
  const [w, n] = [median(wrong), median(none)];
  assert.ok(n * 5 + 5 >= w && w * 5 + 5 >= n, `wrong passcode ${w.toFixed(1)} ms, no meeting ${n.toFixed(1)} ms`);
  c.terminate();
});

// limits.meeting_passcode_failures: one meeting guessed at from many addresses (other
// loopback addresses, 127.0.0.2 …) is limited for everyone, whatever the address.
test('guessing one meeting from many addresses gets that meeting limited', async () => {
  const { default: WebSocket } = await import('ws');
  const from = (address) =>
    new Promise((resolve, reject) => {
      const ws = new WebSocket(s.origin.replace(/^http/, 'ws') + '/ws', { origin: s.origin, localAddress: address });
      const timer = setTimeout(() => reject(new Error('no WebSocket handshake')), 5000);
      ws.once('open', () => (clearTimeout(timer), resolve(new SignalClient(ws))));
      ws.once('error', (e) => (clearTimeout(timer), reject(e)));
    });
  const s = await startServer({
    args: ['--meeting-create', 'anyone', '--limits-passcode-failures', '100', '--limits-meeting-passcode-failures', '3', '--limits-backoff-max', '2'],
  });
  try {
    const m = await createMeeting(s.origin, {});
    const codes = [];
    for (let i = 0; i < 10; i++) {
      const c = await from(`127.0.0.${i + 2}`);
      codes.push(await c.request('join', { protocol: 1, meeting: m.id, name: 'Guesser', passcode: `wrong${i}wrong` }).then(() => 'joined', (e) => e.code));
      c.terminate();
    }
    assert.ok(!codes.includes('joined'));
    const first = codes.indexOf('too_many_attempts');
    assert.ok(first >= 3 && first <= 4, `first limited at attempt ${first + 1}: ${codes}`);
    // Another meeting is not affected.
    const other = await createMeeting(s.origin, { settings: { waiting_room: false, join_before_host: true } });
    const c = await from('127.0.0.40');
    const r = await c.request('join', { protocol: 1, meeting: other.id, name: 'Someone', passcode: other.passcode });
    assert.equal(r.meeting, other.id);
    c.terminate();
  } finally {
    await ensureStopped(s);
  }
});
