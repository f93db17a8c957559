// Accounts over the real HTTP API (docs/api.md): sign-up as the operator allows it,
// argon2id hashes at interactive cost, session cookies and their flags, CSRF refusals
// that change nothing, expiry, sign-out and sign-out everywhere, the sign-in limit, and
// the first administrator made on the command line.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { startServer, ensureStopped, tempDir, sleep, BIN } from '../lib/server.mjs';
import { api, signUp } from '../lib/meetings.mjs';

const servers = [];
after(async () => {
  for (const s of servers) await ensureStopped(s);
});
async function start(args, opts = {}) {
  const s = await startServer({ args, ...opts });
  servers.push(s);
  return s;
}

const cookieOf = (res) => res.headers.get('set-cookie');

test('sign-up is closed by default: admins create accounts on the command line', async () => {
  const dir = tempDir();
  const s = await start([], { dataDir: dir });
  const r = await api(s.origin, 'POST', '/api/signup', { body: { email: 'a@example.org', password: 'long enough pw', name: 'A' } });
  assert.equal(r.status, 403);
  assert.equal(r.body.error.code, 'signup_closed');
  const session = await api(s.origin, 'GET', '/api/session');
  assert.deepEqual(session.body, { account: null, csrf: null, signup: 'closed', create: 'accounts' });
  // No meeting without an account.
  const m = await api(s.origin, 'POST', '/api/meetings', { body: {} });
  assert.equal(m.status, 401);
  assert.equal(m.body.error.code, 'sign_in_required');
  await s.stop();

  const out = spawnSync(BIN, ['--data-dir', dir, 'admin', 'create-user', '--admin', '--email', 'Root@Example.org', '--name', 'Root'], {
    input: 'the first admin password\n',
    encoding: 'utf8',
  });
  assert.equal(out.status, 0, out.stderr);
  assert.match(out.stdout, /^created user root@example\.org \(id \d+, admin\)$/m);
  const dup = spawnSync(BIN, ['--data-dir', dir, 'admin', 'create-user', '--email', 'root@example.org', '--name', 'X'], {
    input: 'another password 1\n',
    encoding: 'utf8',
  });
  assert.equal(dup.status, 1);
  assert.match(dup.stderr, /email already taken/);
  // The hash in the database is argon2id at libsodium's interactive limits.
  const hash = execFileSync('sqlite3', [join(dir, 'conclave.db'), 'SELECT password_hash FROM accounts'], { encoding: 'utf8' }).trim();
  assert.match(hash, /^\$argon2id\$v=19\$m=65536,t=2,p=1\$/);

  const s2 = await start([], { dataDir: dir });
  const ok = await api(s2.origin, 'POST', '/api/signin', { body: { email: 'root@example.org', password: 'the first admin password' } });
  assert.equal(ok.status, 200);
  assert.deepEqual(ok.body.account, { id: 1, email: 'root@example.org', name: 'Root', admin: true });
  const invite = await api(s2.origin, 'POST', '/api/invites', { cookie: cookieOf(ok).split(';')[0], csrf: ok.body.csrf, body: {} });
  assert.equal(invite.status, 201);
  assert.match(invite.body.token, /^[A-Za-z0-9_-]{43}$/);
});

test('cookies: HttpOnly, SameSite=Strict, a path and a lifetime; no Secure over plain HTTP', async () => {
  const s = await start(['--auth-signup', 'open']);
  const r = await api(s.origin, 'POST', '/api/signup', { body: { email: 'Ada@Example.org', password: 'correct horse battery', name: 'Ada' } });
  assert.equal(r.status, 201);
  const cookie = cookieOf(r);
  assert.match(cookie, /^conclave_session=[A-Za-z0-9_-]{43}; /);
  for (const flag of ['HttpOnly', 'SameSite=Strict', 'Path=/', 'Max-Age=2592000']) assert.ok(cookie.includes(flag), cookie);
  assert.ok(!cookie.includes('Secure'), cookie);
  // The email is stored lowercased and is unique.
  const again = await api(s.origin, 'POST', '/api/signup', { body: { email: 'ada@example.org', password: 'correct horse battery', name: 'Ada' } });
  assert.equal(again.status, 409);
  assert.equal(again.body.error.code, 'email_taken');
  // Bad fields are named.
  for (const body of [
    { email: 'no-at', password: 'correct horse battery', name: 'X' },
    { email: 'x@example.org', password: 'short', name: 'X' },
    { email: 'x@example.org', password: 'correct horse battery', name: '' },
  ]) {
    const bad = await api(s.origin, 'POST', '/api/signup', { body });
    assert.equal(bad.status, 400, JSON.stringify(bad.body));
  }
});

test('cookies are Secure over TLS', async () => {
  const s = await start(['--auth-signup', 'open', '--tls', 'self-signed'], { scheme: 'https' });
  const prev = process.env.NODE_TLS_REJECT_UNAUTHORIZED;
  process.env.NODE_TLS_REJECT_UNAUTHORIZED = '0';
  try {
    const r = await api(s.origin, 'POST', '/api/signup', { body: { email: 'tls@example.org', password: 'correct horse battery', name: 'T' } });
    assert.equal(r.status, 201);
    assert.ok(cookieOf(r).includes('; Secure'), cookieOf(r));
  } finally {
    if (prev === undefined) delete process.env.NODE_TLS_REJECT_UNAUTHORIZED;
    else process.env.NODE_TLS_REJECT_UNAUTHORIZED = prev;
  }
});

test('CSRF: a request from elsewhere, a form, or without the token is refused and changes nothing', async () => {
  const s = await start(['--auth-signup', 'open', '--meeting-create', 'accounts']);
  const me = await signUp(s.origin, { email: 'csrf@example.org' });
  const count = async () => (await api(s.origin, 'GET', '/api/meetings', { cookie: me.cookie })).body.meetings.length;
  const attempts = [
    ['foreign Origin', { headers: { Origin: 'https://evil.example' }, token: true }],
    ['no Origin, no Sec-Fetch-Site', { noOrigin: true, token: true }],
    ['Sec-Fetch-Site cross-site', { noOrigin: true, headers: { 'Sec-Fetch-Site': 'cross-site' }, token: true }],
    ['no CSRF token', { token: false }],
    ['wrong CSRF token', { token: 'AAAA' }],
    ['form content type', { form: true, token: true }],
  ];
  for (const [what, a] of attempts) {
    const headers = { Cookie: me.cookie };
    if (!a.noOrigin) headers.Origin = s.origin;
    Object.assign(headers, a.headers ?? {});
    if (a.token === true) headers['X-CSRF-Token'] = me.csrf;
    else if (a.token) headers['X-CSRF-Token'] = a.token;
    headers['Content-Type'] = a.form ? 'application/x-www-form-urlencoded' : 'application/json';
    const res = await fetch(s.url('/api/meetings'), { method: 'POST', headers, body: a.form ? 'settings=x' : '{}' });
    assert.ok(res.status === 403 || res.status === 415, `${what}: ${res.status}`);
    const body = await res.json();
    assert.ok(['csrf', 'bad_content_type'].includes(body.error.code), `${what}: ${body.error.code}`);
  }
  assert.equal(await count(), 0, 'a refused request created a meeting');
  const ok = await api(s.origin, 'POST', '/api/meetings', { cookie: me.cookie, csrf: me.csrf, body: {} });
  assert.equal(ok.status, 201);
  assert.equal(await count(), 1);
});

test('sessions expire, sign out ends one, sign out everywhere ends them all', async () => {
  const s = await start(['--auth-signup', 'open', '--auth-session-ttl', '2']);
  const a = await signUp(s.origin, { email: 'ttl@example.org' });
  const who = async (cookie) => (await api(s.origin, 'GET', '/api/session', { cookie })).body.account?.email ?? null;
  assert.equal(await who(a.cookie), 'ttl@example.org');
  await sleep(2200);
  assert.equal(await who(a.cookie), null, 'an expired session still signs in');

  const s2 = await start(['--auth-signup', 'open']);
  await signUp(s2.origin, { email: 'many@example.org', password: 'correct horse battery' });
  const signIn = async () => {
    const r = await api(s2.origin, 'POST', '/api/signin', { body: { email: 'many@example.org', password: 'correct horse battery' } });
    assert.equal(r.status, 200);
    return { cookie: cookieOf(r).split(';')[0], csrf: r.body.csrf };
  };
  const [one, two, three] = [await signIn(), await signIn(), await signIn()];
  const who2 = async (c) => (await api(s2.origin, 'GET', '/api/session', { cookie: c.cookie })).body.account?.email ?? null;
  const out = await api(s2.origin, 'POST', '/api/signout', { cookie: one.cookie, csrf: one.csrf, body: {} });
  assert.equal(out.status, 204);
  assert.match(cookieOf(out), /Max-Age=0/);
  assert.equal(await who2(one), null);
  assert.equal(await who2(two), 'many@example.org');
  const all = await api(s2.origin, 'POST', '/api/signout-all', { cookie: two.cookie, csrf: two.csrf, body: {} });
  assert.equal(all.status, 204);
  assert.equal(await who2(two), null);
  assert.equal(await who2(three), null, 'sign out everywhere left a session');
});

test('sign-in: unknown email and wrong password answer alike; failures are limited', async () => {
  const s = await start(['--auth-signup', 'open', '--limits-signin-failures', '3', '--limits-backoff-max', '3']);
  await signUp(s.origin, { email: 'known@example.org', password: 'correct horse battery' });
  const tryOnce = (email, password) => api(s.origin, 'POST', '/api/signin', { body: { email, password } });
  const wrong = await tryOnce('known@example.org', 'not the password');
  const unknown = await tryOnce('nobody@example.org', 'not the password');
  assert.equal(wrong.status, 401);
  assert.deepEqual(wrong.body, unknown.body);
  let limited = null;
  for (let i = 0; i < 10 && !limited; i++) {
    const r = await tryOnce('known@example.org', `wrong ${i}`);
    if (r.status === 429) limited = r;
    else assert.equal(r.status, 401);
  }
  assert.ok(limited, 'never limited');
  assert.equal(limited.body.error.code, 'too_many_attempts');
  assert.match(limited.body.error.message, /^too many attempts, try again in \d+ s$/);
  assert.ok(Number(limited.headers.get('retry-after')) >= 1);
  // Limited means the right password is refused too, until the wait is over.
  const right = await tryOnce('known@example.org', 'correct horse battery');
  assert.equal(right.status, 429);
  const metrics = await (await fetch(s.url('/metrics'))).text();
  assert.match(metrics, /^conclave_attempts_total\{kind="signin",outcome="limited"\} [1-9]/m);
  assert.match(metrics, /^conclave_attempts_total\{kind="signin",outcome="failed"\} [1-9]/m);
});

test('a disabled account answers like an unknown email, and its open session ends', async () => {
  const dir = tempDir();
  const s = await start(['--auth-signup', 'open'], { dataDir: dir });
  const a = await signUp(s.origin, { email: 'off@example.org', password: 'correct horse battery' });
  const tryOnce = (email, password) => api(s.origin, 'POST', '/api/signin', { body: { email, password } });
  assert.equal((await tryOnce('off@example.org', 'correct horse battery')).status, 200);
  // The operator disables the account (straight in the store, as an admin command would).
  execFileSync('sqlite3', ['-cmd', '.timeout 5000', join(dir, 'conclave.db'),
    "UPDATE accounts SET disabled = 1 WHERE email = 'off@example.org'"]);
  const disabled = await tryOnce('off@example.org', 'correct horse battery');
  const unknown = await tryOnce('nobody@example.org', 'correct horse battery');
  assert.equal(disabled.status, 401);
  assert.equal(disabled.headers.get('set-cookie'), null, 'a disabled account got a session');
  assert.deepEqual(disabled.body, unknown.body);
  assert.equal(disabled.body.error.code, 'bad_credentials');
  const session = await api(s.origin, 'GET', '/api/session', { cookie: a.cookie });
  assert.equal(session.body.account, null, 'the session of a disabled account still signs in');
});

test('devices: public identity keys of a signed-in account', async () => {
  const s = await start(['--auth-signup', 'open']);
  const me = await signUp(s.origin, { email: 'keys@example.org' });
  const key = Buffer.alloc(32, 7).toString('base64url');
  const add = await api(s.origin, 'POST', '/api/devices', { cookie: me.cookie, csrf: me.csrf, body: { public_key: key, label: 'Laptop' } });
  assert.equal(add.status, 201);
  const bad = await api(s.origin, 'POST', '/api/devices', { cookie: me.cookie, csrf: me.csrf, body: { public_key: 'short', label: 'x' } });
  assert.equal(bad.status, 400);
  const list = await api(s.origin, 'GET', '/api/devices', { cookie: me.cookie });
  assert.deepEqual(list.body.devices.map((d) => [d.public_key, d.label]), [[key, 'Laptop']]);
  const del = await api(s.origin, 'DELETE', `/api/devices/${add.body.id}`, { cookie: me.cookie, csrf: me.csrf });
  assert.equal(del.status, 204);
  assert.equal((await api(s.origin, 'GET', '/api/devices')).status, 401);
});
