// The HTTP surface of a running server: health, metrics, the client's files, and the
// security headers that must be on every single response.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { startServer, ensureStopped } from '../lib/server.mjs';
import { rawRequest } from '../lib/raw-http.mjs';

let server;
before(async () => {
  server = await startServer();
});
after(async () => ensureStopped(server));

function assertSecurityHeaders(headers, what) {
  const get = (n) => (headers.get ? headers.get(n) : headers[n.toLowerCase()]);
  const csp = get('content-security-policy');
  assert.ok(csp, `${what}: no Content-Security-Policy`);
  assert.match(csp, /default-src 'self'/, what);
  assert.match(csp, /script-src 'self';/, what);
  assert.match(csp, /connect-src 'self';/, what);
  assert.match(csp, /frame-ancestors 'none'/, what);
  assert.doesNotMatch(csp, /https?:|\*|unsafe-inline|unsafe-eval/, `${what}: CSP allows another origin`);
  assert.equal(get('x-content-type-options'), 'nosniff', what);
  assert.equal(get('referrer-policy'), 'no-referrer', what);
  const pp = get('permissions-policy');
  for (const f of ['camera=(self)', 'microphone=(self)', 'display-capture=(self)', 'geolocation=()']) {
    assert.ok(pp?.includes(f), `${what}: Permissions-Policy lacks ${f}`);
  }
  assert.ok(!get('strict-transport-security'), `${what}: HSTS without TLS`);
}

test('healthz answers 200 with a small JSON body', async () => {
  const res = await fetch(server.url('/healthz'));
  assert.equal(res.status, 200);
  assert.match(res.headers.get('content-type'), /application\/json/);
  const body = await res.json();
  assert.equal(body.status, 'ok');
  assert.match(body.version, /^\d+\.\d+\.\d+$/);
  const head = await fetch(server.url('/healthz'), { method: 'HEAD' });
  assert.equal(head.status, 200);
  assert.equal(await head.text(), '');
});

test('the data directory was created and holds the SQLite database', () => {
  assert.ok(existsSync(join(server.dataDir, 'conclave.db')));
  assert.equal(statSync(server.dataDir).mode & 0o777, 0o700);
  assert.equal(statSync(join(server.dataDir, 'conclave.db')).mode & 0o777, 0o600);
});

test('metrics are Prometheus text with conclave_ metrics that count requests', async () => {
  const before = await (await fetch(server.url('/metrics'))).text();
  const count = (text, labels) => {
    const m = new RegExp(`^conclave_http_requests_total\\{${labels}\\} (\\d+)$`, 'm').exec(text);
    return m ? Number(m[1]) : 0;
  };
  const n0 = count(before, 'route="healthz",status="200"');
  for (let i = 0; i < 3; i++) await fetch(server.url('/healthz'));
  await fetch(server.url('/no-such-file.txt'));
  const res = await fetch(server.url('/metrics'));
  assert.equal(res.status, 200);
  assert.match(res.headers.get('content-type'), /^text\/plain; version=0\.0\.4/);
  const text = await res.text();
  assert.equal(count(text, 'route="healthz",status="200"'), n0 + 3);
  assert.ok(count(text, 'route="not_found",status="404"') >= 1);
  for (const name of [
    'conclave_process_cpu_seconds_total',
    'conclave_process_resident_memory_bytes',
    'conclave_process_open_fds',
    'conclave_process_start_time_seconds',
    'conclave_websocket_connections',
    'conclave_websocket_connections_total',
    'conclave_draining',
    'conclave_build_info',
  ]) {
    assert.match(text, new RegExp(`^# TYPE ${name} (counter|gauge)$`, 'm'), name);
  }
  // Every line is a comment or `name{labels} value`.
  for (const line of text.trim().split('\n')) {
    assert.match(line, /^(# (HELP|TYPE) conclave_\w+ .+|conclave_\w+(\{[^}]*\})? -?[\d.e+]+)$/, line);
  }
  // Route labels come from a fixed set, never from the request path.
  assert.doesNotMatch(text, /no-such-file/);
});

test('the landing page and every asset it references are served', async () => {
  const res = await fetch(server.url('/'));
  assert.equal(res.status, 200);
  assert.match(res.headers.get('content-type'), /^text\/html/);
  assert.equal(res.headers.get('cache-control'), 'no-cache');
  const html = await res.text();
  const refs = [...html.matchAll(/(?:src|href)="([^"]+)"/g)].map((m) => m[1]);
  assert.ok(refs.some((r) => r.endsWith('.js')), 'index.html references a script');
  for (const ref of refs) {
    assert.ok(ref.startsWith('/'), `${ref} is not on our own origin`);
    const asset = await fetch(server.url(ref));
    assert.equal(asset.status, 200, ref);
    assertSecurityHeaders(asset.headers, ref);
    if (ref.startsWith('/assets/')) {
      assert.match(asset.headers.get('cache-control'), /immutable/);
    }
  }
  // Client routes get the client, so links into a meeting survive a reload.
  for (const path of ['/m/kfx7-mq2d-9tbe', '/new']) {
    const r = await fetch(server.url(path));
    assert.equal(r.status, 200, path);
    assert.equal(await r.text(), html);
  }
});

test('security headers are on every response, errors included', async () => {
  const checks = [
    ['GET', '/', 200],
    ['GET', '/healthz', 200],
    ['GET', '/metrics', 200],
    ['GET', '/favicon.svg', 200],
    ['GET', '/m/abc-def', 200],
    ['GET', '/missing.js', 404],
    ['POST', '/', 405],
    ['DELETE', '/healthz', 405],
    ['GET', '/ws', 426],
  ];
  for (const [method, path, status] of checks) {
    const res = await fetch(server.url(path), { method });
    assert.equal(res.status, status, `${method} ${path}`);
    assertSecurityHeaders(res.headers, `${method} ${path}`);
  }
});

test('malformed, oversized and path-traversal requests get clean errors', async () => {
  const cases = [
    ['GET /../etc/passwd HTTP/1.1\r\nHost: x\r\n\r\n', 404],
    ['GET /assets/../../../etc/passwd HTTP/1.1\r\nHost: x\r\n\r\n', 404],
    ['GET /%2e%2e/%2e%2e/etc/passwd HTTP/1.1\r\nHost: x\r\n\r\n', 404],
    ['GET //etc/passwd HTTP/1.1\r\nHost: x\r\n\r\n', 404],
    ['THIS IS NOT HTTP\r\n\r\n', 400],
    [`GET / HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20000)}\r\n\r\n`, 431],
    [`POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\n\r\n${'a'.repeat(100000)}`, 413],
  ];
  for (const [bytes, status] of cases) {
    const res = await rawRequest(server.port, bytes);
    assert.equal(res.status, status, bytes.slice(0, 40));
    assertSecurityHeaders(res.headers, bytes.slice(0, 40));
    assert.doesNotMatch(res.body, /root:/);
  }
  // ...and the server is still fine.
  assert.equal((await fetch(server.url('/healthz'))).status, 200);
});

test('logs carry client IP addresses only when the operator turns that on', async () => {
  for (const [extra, expectIp] of [[[], false], [['--log-ip-addresses', 'true'], true]]) {
    const s = await startServer({ args: ['--log-level', 'debug', ...extra] });
    try {
      await fetch(s.url('/healthz'));
      await s.stop();
      const lines = s.logs().split('\n');
      const access = lines.filter((l) => /HTTP GET 200 from/.test(l));
      assert.equal(access.length, 1, s.logs());
      // The server's own bind addresses are not client addresses.
      const rest = lines.filter((l) => !/listening on|media worker/.test(l)).join('\n');
      if (expectIp) assert.match(access[0], /from 127\.0\.0\.1:\d+/);
      else assert.doesNotMatch(rest, /127\.0\.0\.1/);
    } finally {
      await ensureStopped(s);
    }
  }
});

test('--log-format json writes one JSON object per line', async () => {
  const s = await startServer({ args: ['--log-format', 'json'] });
  try {
    await s.stop();
    const lines = s.logs().trim().split('\n');
    assert.ok(lines.length >= 3);
    for (const line of lines) {
      const entry = JSON.parse(line);
      assert.ok(entry.ts && entry.level && typeof entry.msg === 'string', line);
    }
  } finally {
    await ensureStopped(s);
  }
});
