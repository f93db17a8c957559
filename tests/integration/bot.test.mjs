// conclave-bot against the real server (issue 9): three headless participants join one
// meeting through the signaling protocol, run ICE (controlling), DTLS (client) and SRTP,
// publish audio and three-layer simulcast video, subscribe to each other, and report what
// arrived; with --e2ee, end to end encrypted as the browser does it (docs/e2ee.md). Proves
// the load tool itself works end to end on loopback, so that benchmark numbers built on it
// mean something.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { startServer, ensureStopped, tempDir } from '../lib/server.mjs';
import { createMeeting, signUp } from '../lib/meetings.mjs';

const BOT = process.env.TEST_CONCLAVE_BOT_BIN;
let server;
before(async () => {
  server = await startServer({ args: ['--meeting-create', 'anyone', '--auth-signup', 'open'] });
});
after(async () => ensureStopped(server));

test('three bots see and hear each other through the SFU: every stream arrives, little loss, sub-10 ms latency', { timeout: 60000 }, async () => {
  assert.ok(BOT, 'TEST_CONCLAVE_BOT_BIN names build/conclave-bot (set by CTest)');
  const out = join(tempDir('conclave-bot-'), 'result.json');
  const { stdout } = await promisify(execFile)(BOT, ['--server', server.origin, '--create', '--bots', '3', '--duration', '5', '--json', out], {
    timeout: 40000,
  });
  const r = JSON.parse(readFileSync(out, 'utf8'));
  assert.equal(r.total.failed, 0, stdout);
  for (const b of r.bots) {
    assert.equal(b.error, '', `bot ${b.bot}: ${b.error}`);
    assert.ok(b.join_ms > 0 && b.join_ms < 5000, `bot ${b.bot} joined in ${b.join_ms} ms`);
    // Two others, each with audio and video.
    assert.equal(b.streams, 4, `bot ${b.bot} received ${b.streams} streams\n${stdout}`);
    assert.ok(b.sent > 5 * 50, `bot ${b.bot} sent ${b.sent} packets`);
  }
  // Loopback, a few streams: anything but a trickle of loss is a bug in the bot or server.
  assert.ok(r.total.loss_pct < 1, `loss ${r.total.loss_pct} %\n${stdout}`);
  assert.ok(r.total.p50_us > 0 && r.total.p50_us < 10000, `p50 latency ${r.total.p50_us} µs`);
  assert.ok(r.total.received > 3 * 2 * 5 * 50, `received ${r.total.received}`);
});

test('with --e2ee the bots encrypt every frame as the browser does: all open, one security code, two key holders each', { timeout: 60000 }, async () => {
  const out = join(tempDir('conclave-bot-'), 'result.json');
  const { stdout } = await promisify(execFile)(BOT, ['--server', server.origin, '--create', '--bots', '3', '--duration', '5', '--e2ee', '--json', out], {
    timeout: 40000,
  });
  const r = JSON.parse(readFileSync(out, 'utf8'));
  assert.equal(r.total.failed, 0, stdout);
  const codes = new Set(r.bots.map((b) => b.security_code));
  assert.equal(codes.size, 1, `security codes differ: ${[...codes]}`);
  assert.match([...codes][0], /^\d{5}( \d{5}){5}$/);
  for (const b of r.bots) {
    assert.equal(b.e2ee_key_holders, 2, `bot ${b.bot} holds keys of ${b.e2ee_key_holders}`);
    assert.ok(b.e2ee_frames_opened > 100, `bot ${b.bot} opened ${b.e2ee_frames_opened} frames`);
    assert.equal(b.e2ee_frames_refused, 0, `bot ${b.bot} could not open ${b.e2ee_frames_refused} frames`);
    assert.equal(b.streams, 4);
  }
  assert.ok(r.total.loss_pct < 1, `loss ${r.total.loss_pct} %`);
});

test('bots join signed in with an account\'s session cookie, into a meeting that account owns', { timeout: 60000 }, async () => {
  const account = await signUp(server.origin, { email: 'bots@example.org', name: 'Load tester' });
  const m = await createMeeting(server.origin, { ...account, settings: { waiting_room: true, authenticated_only: true } });
  const out = join(tempDir('conclave-bot-'), 'result.json');
  // Only signed-in people may join, and the owner's account skips the waiting room as host.
  const { stdout } = await promisify(execFile)(
    BOT,
    ['--server', server.origin, '--meeting', m.id, '--passcode', m.passcode, '--cookie', account.cookie, '--bots', '2', '--duration', '3', '--json', out],
    { timeout: 30000 },
  );
  const r = JSON.parse(readFileSync(out, 'utf8'));
  assert.equal(r.total.failed, 0, stdout);
  for (const b of r.bots) assert.equal(b.streams, 2, `bot ${b.bot}: ${b.streams} streams\n${stdout}`);
  // Without the cookie the same meeting refuses them.
  const refused = await promisify(execFile)(BOT, ['--server', server.origin, '--meeting', m.id, '--passcode', m.passcode, '--bots', '1', '--duration', '1'], {
    timeout: 30000,
  }).then(
    () => null,
    (e) => e.stdout,
  );
  assert.match(refused ?? '', /join: forbidden/);
});
