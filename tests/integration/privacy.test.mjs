// Privacy by construction (issue 8), checked on the real files: the inventory in
// docs/privacy.md names every column the migrations create; a deleted account leaves
// neither its name nor its email in the database file or its WAL; the export holds what
// the inventory says exists for a person; the audit chain detects any change, deletion or
// reordering; people see the operator's actions about them and only theirs; retention 0
// removes meetings on the next sweep.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { readFileSync, existsSync, cpSync } from 'node:fs';
import { join } from 'node:path';
import { startServer, ensureStopped, tempDir, sleep, BIN } from '../lib/server.mjs';
import { api, signUp, createMeeting, joinMeeting } from '../lib/meetings.mjs';

const servers = [];
after(async () => {
  for (const s of servers) await ensureStopped(s);
});
async function start(args, opts = {}) {
  const s = await startServer({ args, ...opts });
  servers.push(s);
  return s;
}
const sql = (dir, q) => execFileSync('sqlite3', [join(dir, 'conclave.db'), q], { encoding: 'utf8' }).trim();
const conclave = (args, input) => spawnSync(BIN, args, { input, encoding: 'utf8' });

/** { table: [columns] } of a database, as SQLite itself reports it. */
function schema(dir) {
  const tables = sql(dir, "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name").split('\n');
  return Object.fromEntries(tables.map((t) => [t, sql(dir, `SELECT name FROM pragma_table_info('${t}')`).split('\n')]));
}

/** { table: Set(columns named) } from docs/privacy.md: each "### `table`" section's rows. */
function inventory() {
  const doc = readFileSync(new URL('../../docs/privacy.md', import.meta.url), 'utf8');
  const out = {};
  for (const section of doc.split(/^### /m).slice(1)) {
    const table = /^`([a-z_]+)`/.exec(section)?.[1];
    if (!table) continue;
    const named = new Set();
    for (const row of section.split('\n').filter((l) => l.startsWith('| `'))) {
      for (const m of row.split('|')[1].matchAll(/`([a-z_]+)`/g)) named.add(m[1]);
    }
    out[table] = named;
  }
  return out;
}

test('docs/privacy.md names every table and column the migrations create', async () => {
  const dir = tempDir();
  const s = await start([], { dataDir: dir });
  await s.stop();
  const db = schema(dir);
  const inv = inventory();
  const missing = [];
  for (const [table, columns] of Object.entries(db)) {
    if (!inv[table]) missing.push(`table ${table}`);
    else for (const c of columns) if (!inv[table].has(c)) missing.push(`${table}.${c}`);
  }
  assert.deepEqual(missing, [], `docs/privacy.md does not name: ${missing.join(', ')}`);
});

test('a deleted account leaves neither its name nor its email in the database or its WAL', async () => {
  const dir = tempDir();
  const s = await start(['--auth-signup', 'open', '--meeting-create', 'accounts'], { dataDir: dir });
  const NAME = 'Quokkafeather Zyxwvutsrq';
  const EMAIL = 'quokka.zyxwvut@example.org';
  const me = await signUp(s.origin, { email: EMAIL, name: NAME, password: 'correct horse battery' });
  // Use the account: a meeting it owns (and joins, signed in), a device key.
  const m = await createMeeting(s.origin, { cookie: me.cookie, csrf: me.csrf, settings: { waiting_room: false } });
  const c = await joinMeeting(s.origin, m, NAME, { cookie: me.cookie });
  assert.equal(c.result.role, 'host');
  c.terminate();
  const key = Buffer.alloc(32, 9).toString('base64url');
  assert.equal((await api(s.origin, 'POST', '/api/devices', { cookie: me.cookie, csrf: me.csrf, body: { public_key: key, label: `${NAME}'s laptop` } })).status, 201);
  const bytes = () =>
    ['conclave.db', 'conclave.db-wal'].map((f) => (existsSync(join(dir, f)) ? readFileSync(join(dir, f)) : Buffer.alloc(0)));
  assert.ok(bytes().some((b) => b.includes(EMAIL)), 'the email was never written: the test proves nothing');

  const wrong = await api(s.origin, 'DELETE', '/api/account', { cookie: me.cookie, csrf: me.csrf, body: { password: 'not it' } });
  assert.equal(wrong.status, 403);
  const del = await api(s.origin, 'DELETE', '/api/account', { cookie: me.cookie, csrf: me.csrf, body: { password: 'correct horse battery' } });
  assert.equal(del.status, 204);
  for (const [i, b] of bytes().entries()) {
    for (const needle of [EMAIL, NAME, 'Quokkafeather']) {
      assert.ok(!b.includes(needle), `${needle} is still in ${i ? 'the WAL' : 'the database file'} while the server runs`);
    }
  }
  assert.equal(sql(dir, 'SELECT count(*) FROM meetings'), '0');
  assert.equal(sql(dir, 'SELECT count(*) FROM devices'), '0');
  assert.equal((await api(s.origin, 'GET', '/api/session', { cookie: me.cookie })).body.account, null);
  await s.stop();
  for (const b of bytes()) assert.ok(!b.includes(EMAIL) && !b.includes(NAME));
});

test('the export holds exactly what the inventory says exists for a person', async () => {
  const dir = tempDir();
  const s = await start(['--auth-signup', 'open'], { dataDir: dir });
  const me = await signUp(s.origin, { email: 'export@example.org', name: 'Exa' });
  await createMeeting(s.origin, { cookie: me.cookie, csrf: me.csrf });
  await api(s.origin, 'POST', '/api/devices', { cookie: me.cookie, csrf: me.csrf, body: { public_key: Buffer.alloc(32, 1).toString('base64url'), label: 'Phone' } });
  const r = await api(s.origin, 'GET', '/api/account/export', { cookie: me.cookie });
  assert.equal(r.status, 200);
  assert.match(r.headers.get('content-disposition'), /attachment/);
  const x = r.body;
  const db = schema(dir);
  // Every column of a person's rows is in the export (the row's owner column aside, and
  // the audit chain's bookkeeping): nothing held back, nothing made up.
  const keys = (o) => Object.keys(o).sort();
  const cols = (t, drop = []) => db[t].filter((c) => !drop.includes(c)).sort();
  assert.deepEqual(keys(x.account), cols('accounts'));
  assert.equal(x.sessions.length, 1);
  assert.deepEqual(keys(x.sessions[0]), cols('auth_sessions', ['account_id']));
  assert.deepEqual(keys(x.devices[0]), cols('devices', ['account_id']));
  assert.deepEqual(keys(x.meetings[0]), cols('meetings', ['owner']));
  assert.deepEqual(x.invites, []);
  assert.deepEqual(x.audit, []);
  assert.equal(x.account.email, 'export@example.org');
  assert.ok(!JSON.stringify(x).includes('$argon2id'), 'the password hash was exported');
});

test('tampering with the audit log is detected; people see the entries about them, only theirs', async () => {
  const dir = tempDir();
  for (const [email, name] of [['ann@example.org', 'Ann'], ['bob@example.org', 'Bob']]) {
    assert.equal(conclave(['--data-dir', dir, 'admin', 'create-user', '--email', email, '--name', name], 'a good long password\n').status, 0);
  }
  for (const cmd of ['disable-user', 'enable-user', 'make-admin']) {
    assert.equal(conclave(['--data-dir', dir, 'admin', cmd, '--email', 'ann@example.org']).status, 0);
  }
  const ok = conclave(['audit', 'verify', '--data-dir', dir]);
  assert.equal(ok.status, 0, ok.stdout + ok.stderr);
  assert.match(ok.stdout, /^audit log OK: 5 entries, head [0-9a-f]{64}$/m);
  assert.ok(!sql(dir, 'SELECT actor || action || details FROM audit_log').includes('example.org'), 'personal data in the audit log');

  const tampered = (what, statements, seq) => {
    const copy = tempDir();
    cpSync(dir, copy, { recursive: true });
    sql(copy, statements);
    const r = conclave(['audit', 'verify', '--data-dir', copy]);
    assert.equal(r.status, 1, `${what} went unnoticed: ${r.stdout}`);
    assert.match(r.stdout, new RegExp(`^audit log BROKEN at entry ${seq}: `, 'm'), `${what}: ${r.stdout}`);
  };
  tampered('a changed entry', "UPDATE audit_log SET action = 'enable_user' WHERE seq = 3", 3);
  tampered('a changed subject', 'UPDATE audit_log SET subject = 2 WHERE seq = 4', 4);
  tampered('a deleted entry', 'DELETE FROM audit_log WHERE seq = 2', 2);
  tampered(
    'two entries swapped',
    'UPDATE audit_log SET seq = 100 WHERE seq = 3; UPDATE audit_log SET seq = 3 WHERE seq = 4; UPDATE audit_log SET seq = 4 WHERE seq = 100',
    3,
  );
  tampered('a re-hashed entry', "UPDATE audit_log SET details = '{\"admin\":false}', hash = 'x' WHERE seq = 5", 5);

  const s = await start([], { dataDir: dir });
  const signIn = async (email) => {
    const r = await api(s.origin, 'POST', '/api/signin', { body: { email, password: 'a good long password' } });
    assert.equal(r.status, 200);
    return r.headers.get('set-cookie').split(';')[0];
  };
  const ann = (await api(s.origin, 'GET', '/api/account/audit', { cookie: await signIn('ann@example.org') })).body.entries;
  const bob = (await api(s.origin, 'GET', '/api/account/audit', { cookie: await signIn('bob@example.org') })).body.entries;
  assert.deepEqual(ann.map((e) => e.action), ['create_user', 'disable_user', 'enable_user', 'change_role']);
  assert.deepEqual(bob.map((e) => e.action), ['create_user']);
  assert.ok(ann.every((e) => e.actor === 'operator'));
});

test('retention 0: meeting records go on the next sweep; a running meeting stays', async () => {
  const dir = tempDir();
  const s = await start(
    ['--meeting-create', 'anyone', '--retention-meeting-days', '0', '--retention-sweep-interval', '1', '--meeting-reconnect-grace', '0'],
    { dataDir: dir },
  );
  const gone = await createMeeting(s.origin, {});
  const kept = await createMeeting(s.origin, { settings: { waiting_room: false, join_before_host: true } });
  const c = await joinMeeting(s.origin, kept, 'Still here');
  let left = null;
  for (let i = 0; i < 30 && left !== `${kept.id}`; i++) {
    await sleep(200);
    left = sql(dir, 'SELECT group_concat(id) FROM meetings');
  }
  assert.equal(left, kept.id, `after the sweep: ${left} (expected only the running meeting)`);
  assert.ok(!left.includes(gone.id));
  c.terminate(); // the last one leaves: the meeting is over
  let count = null;
  for (let i = 0; i < 30 && count !== '0'; i++) {
    await sleep(200);
    count = sql(dir, 'SELECT count(*) FROM meetings');
  }
  assert.equal(count, '0', 'the meeting was kept after it ended');
});
