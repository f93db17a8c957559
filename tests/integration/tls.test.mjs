// HTTPS: a self-signed certificate generated once under the data directory (for LAN
// trials), HSTS on every response, and WebSocket over TLS.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import https from 'node:https';
import { readFileSync, statSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { X509Certificate } from 'node:crypto';
import WebSocket from 'ws';
import { startServer, ensureStopped, tempDir } from '../lib/server.mjs';

function get(port, path, ca) {
  return new Promise((resolve, reject) => {
    const req = https.get({ host: '127.0.0.1', port, path, ca, servername: 'localhost' }, (res) => {
      let body = '';
      res.on('data', (d) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.setTimeout(5000, () => req.destroy(new Error('timeout')));
  });
}

test('--tls self-signed: generates a certificate once, serves HTTPS with HSTS', async () => {
  const dir = tempDir();
  let s;
  try {
    s = await startServer({ args: ['--tls', 'self-signed'], dataDir: dir, scheme: 'https' });
    assert.match(s.logs(), /listening on https:\/\//);
    const certPem = readFileSync(join(dir, 'tls', 'cert.pem'));
    assert.equal(statSync(join(dir, 'tls', 'key.pem')).mode & 0o777, 0o600);
    const cert = new X509Certificate(certPem);
    assert.match(cert.subjectAltName, /DNS:localhost/);
    assert.match(cert.subjectAltName, /IP Address:127\.0\.0\.1/);

    // Verified against the generated certificate itself, as a browser that trusts it would.
    const res = await get(s.port, '/healthz', certPem);
    assert.equal(res.status, 200);
    assert.equal(res.headers['strict-transport-security'], 'max-age=31536000');
    assert.match(res.headers['content-security-policy'], /default-src 'self'/);
    const page = await get(s.port, '/', certPem);
    assert.equal(page.status, 200);
    assert.ok(page.headers['strict-transport-security']);

    const ws = new WebSocket(`wss://127.0.0.1:${s.port}/ws`, { ca: certPem, servername: 'localhost' });
    await new Promise((resolve, reject) => {
      ws.once('open', resolve);
      ws.once('error', reject);
    });
    ws.send(JSON.stringify({ id: 1, type: 'nothing' }));
    const reply = await new Promise((r) => ws.once('message', (d) => r(JSON.parse(d))));
    assert.equal(reply.error.code, 'unknown_type');
    ws.close();
    await new Promise((r) => ws.once('close', r));
    assert.equal((await s.stop()).code, 0);

    // A restart reuses the same certificate (browsers that accepted it keep working).
    s = await startServer({ args: ['--tls', 'self-signed'], dataDir: dir, scheme: 'https' });
    assert.deepEqual(readFileSync(join(dir, 'tls', 'cert.pem')), certPem);
    assert.match(s.logs(), /using self-signed certificate/);
    assert.equal((await s.stop()).code, 0);
  } finally {
    await ensureStopped(s);
    rmSync(dir, { recursive: true, force: true });
  }
});

test('--tls-cert/--tls-key: serves the given certificate', async () => {
  const dir = tempDir();
  let s;
  try {
    // Let one server generate a pair, then give those files to another explicitly.
    s = await startServer({ args: ['--tls', 'self-signed'], dataDir: dir, scheme: 'https' });
    await s.stop();
    const cert = join(dir, 'tls', 'cert.pem');
    const key = join(dir, 'tls', 'key.pem');
    s = await startServer({ args: ['--tls-cert', cert, '--tls-key', key], scheme: 'https' });
    const res = await get(s.port, '/healthz', readFileSync(cert));
    assert.equal(res.status, 200);
    assert.ok(res.headers['strict-transport-security']);
    assert.equal((await s.stop()).code, 0);
  } finally {
    await ensureStopped(s);
    rmSync(dir, { recursive: true, force: true });
  }
});
