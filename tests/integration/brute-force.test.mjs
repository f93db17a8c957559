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
        assert.ok(e.message.match(/^too many attempts, try again in (\d+) s$/), e.message);
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
  await sleep(raw.error.retry_after * 1000 + 100);
  const ok = await c.request('join', { protocol: 1, meeting: m.id, name: 'Guesser', passcode: m.passcode });
  assert.equal(ok.meeting, m.id);
  c.terminate();

  const metrics = await (await fetch(server.url('/metrics'))).text();
  const value = (kind, outcome) =>
    Number(new RegExp(`^conclave_attempts_total\\{kind="${kind}",outcome="${outcome}"\\} (\\d+)`, 'm').exec(metrics)?.[1] ?? 0);
  assert.ok(value('passcode', 'failed') >= outcomes.filter((o) => o === 'no_such_meeting').length);
  assert.ok(value('join', 'limited') >= 2, metrics);
});
