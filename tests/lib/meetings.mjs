// Accounts and meetings through the real HTTP API (docs/api.md), for tests: the server
// must run with `--meeting-create anyone` for guests to create meetings, and with
// `--auth-signup open` for signUp().
import { SignalClient } from './signal-client.mjs';

/** A JSON request as the browser client sends it (same Origin, JSON, CSRF token). */
export async function api(origin, method, path, { body, cookie, csrf, headers = {} } = {}) {
  const h = { Origin: origin, ...headers };
  if (body !== undefined) h['Content-Type'] = 'application/json';
  if (cookie) h.Cookie = cookie;
  if (csrf) h['X-CSRF-Token'] = csrf;
  const res = await fetch(origin + path, {
    method,
    headers: h,
    body: body === undefined ? undefined : JSON.stringify(body),
    signal: AbortSignal.timeout(10000),
  });
  const text = await res.text();
  return { status: res.status, headers: res.headers, body: text ? JSON.parse(text) : null };
}

/** Signs up; resolves to { cookie, csrf, account }. */
export async function signUp(origin, { email, password = 'correct horse battery', name = 'Tester' }) {
  const r = await api(origin, 'POST', '/api/signup', { body: { email, password, name } });
  if (r.status !== 201) throw new Error(`sign-up failed: ${r.status} ${JSON.stringify(r.body)}`);
  const cookie = r.headers.get('set-cookie').split(';')[0];
  return { cookie, csrf: r.body.csrf, account: r.body.account };
}

/** Creates a meeting; resolves to { id, passcode, host_key?, settings }. */
export async function createMeeting(origin, { cookie, csrf, settings, passcode } = {}) {
  const body = { settings };
  if (passcode !== undefined) body.passcode = passcode;
  const r = await api(origin, 'POST', '/api/meetings', { body, cookie, csrf });
  if (r.status !== 201) throw new Error(`creating a meeting failed: ${r.status} ${JSON.stringify(r.body)}`);
  return r.body;
}

/** Settings for tests that are not about the waiting room: everyone goes straight in. */
export const OPEN = { waiting_room: false, join_before_host: true };

/**
 * Opens a signaling connection and joins; resolves to the client with `me`, `token`,
 * `roster` and the whole join `result`.
 */
export async function joinMeeting(origin, meeting, name, { cookie, host_key, device, passcode } = {}) {
  const c = await SignalClient.open(origin, { cookie });
  const fields = { protocol: 1, meeting: meeting.id, name, passcode: passcode ?? meeting.passcode };
  if (host_key) fields.host_key = host_key;
  if (device) fields.device = device;
  const r = await c.request('join', fields);
  return Object.assign(c, { me: r.participant, token: r.reconnect_token, roster: r.roster, result: r });
}

/** A signaling connection whose upgrade carries the session cookie (when given). */
export function openClient(origin, { cookie, headers } = {}) {
  return SignalClient.open(origin, { cookie, headers });
}

/**
 * Joins on an open client with raw join fields; resolves to the join result (and sets
 * `me`, `token`, `roster`, `result` on the client), or rejects with the typed error.
 */
export async function joinAs(client, { meeting, passcode, name, host_key, device, reconnect }) {
  const id = typeof meeting === 'string' ? meeting : meeting.id;
  const fields = { protocol: 1, meeting: id, name, passcode: passcode ?? meeting.passcode };
  if (host_key) fields.host_key = host_key;
  if (device) fields.device = device;
  if (reconnect) fields.reconnect = reconnect;
  const r = await client.request('join', fields);
  Object.assign(client, { me: r.participant, token: r.reconnect_token, roster: r.roster, result: r });
  return r;
}

/**
 * A new meeting's link (with its passcode in the fragment), created as a guest: the
 * server runs with `--meeting-create anyone`. Everyone goes straight in unless
 * `settings` says otherwise.
 */
export async function meetingUrl(server, settings = OPEN) {
  const m = await createMeeting(server.origin, { settings });
  return server.url(`/m/${m.id}#p=${m.passcode}`);
}
