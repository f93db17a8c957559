// Starting and stopping as an operator sees it: graceful drain on SIGTERM/SIGINT, the
// second signal, and one clear line for each startup failure.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { writeFileSync, mkdirSync, chmodSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import WebSocket from 'ws';
import { startServer, ensureStopped, runOnce, tempDir, sleep } from '../lib/server.mjs';

function connect(server) {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`ws://127.0.0.1:${server.port}/ws`);
    ws.once('open', () => resolve(ws));
    ws.once('unexpected-response', (req, res) => reject(Object.assign(new Error('refused'), { status: res.statusCode })));
    ws.once('error', reject);
  });
}

const closeOf = (ws) => new Promise((resolve) => ws.once('close', (code) => resolve(code)));

test('SIGTERM with nothing open: exits 0 at once', async () => {
  const s = await startServer();
  try {
    const { code, ms } = await s.stop('SIGTERM');
    assert.equal(code, 0);
    assert.ok(ms < 2000, `took ${ms} ms`);
    assert.match(s.logs(), /SIGTERM received: draining/);
  } finally {
    await ensureStopped(s);
  }
});

test('draining: healthz 503, new meetings refused, open ones finish, then exit 0', async () => {
  const s = await startServer({ args: ['--drain-timeout', '20'] });
  try {
    const ws = await connect(s);
    s.child.kill('SIGTERM');
    await sleep(200);
    assert.equal(s.child.exitCode, null, 'still running while a meeting is open');
    const health = await fetch(s.url('/healthz'));
    assert.equal(health.status, 503);
    assert.equal((await health.json()).status, 'draining');
    await assert.rejects(connect(s), { status: 503 });
    const metrics = await (await fetch(s.url('/metrics'))).text();
    assert.match(metrics, /^conclave_draining 1$/m);
    // The last participant leaves: the server exits promptly, with 0.
    const t0 = Date.now();
    ws.close(1000);
    const { code } = await s.exited;
    assert.equal(code, 0);
    assert.ok(Date.now() - t0 < 2000);
  } finally {
    await ensureStopped(s);
  }
});

test('drain timeout: open connections are closed with 1001 and the server exits 0', async () => {
  const s = await startServer({ args: ['--drain-timeout', '1'] });
  try {
    const ws = await connect(s);
    const closeCode = closeOf(ws);
    const { code, ms } = await s.stop('SIGINT');
    assert.equal(code, 0);
    assert.equal(await closeCode, 1001);
    assert.ok(ms >= 900 && ms < 5000, `exited after ${ms} ms`);
  } finally {
    await ensureStopped(s);
  }
});

test('a second signal exits at once', async () => {
  const s = await startServer({ args: ['--drain-timeout', '60'] });
  try {
    const ws = await connect(s);
    s.child.kill('SIGTERM');
    await sleep(200);
    const { code, ms } = await s.stop('SIGTERM');
    assert.equal(code, 128 + 15);
    assert.ok(ms < 2000);
    ws.terminate();
  } finally {
    await ensureStopped(s);
  }
});

test('port in use: one line naming address and problem, exit 1', async () => {
  const blocker = net.createServer();
  await new Promise((r) => blocker.listen(0, '127.0.0.1', r));
  const port = blocker.address().port;
  const dir = tempDir();
  try {
    const r = await runOnce(['--http-port', String(port), '--data-dir', dir]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, new RegExp(`conclave: cannot listen on 127\\.0\\.0\\.1:${port}: Address already in use`));
  } finally {
    blocker.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('data directory not writable: one line, exit 1, nothing created', async () => {
  const dir = tempDir();
  try {
    writeFileSync(join(dir, 'file'), 'x');
    const r = await runOnce(['--http-port', '0', '--data-dir', join(dir, 'file', 'data')]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /conclave: cannot create data directory .*file\/data/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('unreadable or invalid certificate: one line naming the file, exit 1', async () => {
  const dir = tempDir();
  try {
    const missing = join(dir, 'nope.pem');
    let r = await runOnce(['--http-port', '0', '--data-dir', join(dir, 'd'), '--tls-cert', missing, '--tls-key', missing]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /conclave: cannot read TLS certificate .*nope\.pem: No such file or directory/);
    const junk = join(dir, 'junk.pem');
    writeFileSync(junk, 'not a certificate');
    r = await runOnce(['--http-port', '0', '--data-dir', join(dir, 'd'), '--tls-cert', junk, '--tls-key', junk]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /conclave: cannot use TLS certificate .*junk\.pem/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a database from a newer version is refused and left untouched', async () => {
  const s = await startServer({ dataDir: tempDir() });
  const dir = s.dataDir;
  try {
    await s.stop();
    // Pretend a later Conclave migrated it.
    const { execFileSync } = await import('node:child_process');
    execFileSync('sqlite3', [join(dir, 'conclave.db'),
      "INSERT INTO schema_version (version, applied_at, description) VALUES (999, 0, 'future')"]);
    const r = await runOnce(['--http-port', '0', '--data-dir', dir]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /newer Conclave \(schema 999/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
