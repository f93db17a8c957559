// The HTTP API of docs/api.md: accounts and creating meetings. Requests carry the
// session cookie (same origin), JSON, and the CSRF token the server handed out.
export interface Account {
  id: number;
  email: string;
  name: string;
  admin: boolean;
}

export interface SessionInfo {
  account: Account | null;
  csrf: string | null;
  signup: 'open' | 'invite' | 'closed';
  create: 'accounts' | 'anyone';
}

export interface CreatedMeeting {
  id: string;
  passcode: string;
  host_key?: string;
}

export interface OwnedMeeting {
  id: string;
  created_at: number;
  last_used_at: number;
}

/** A refusal from the API: its code, message and, for too_many_attempts, the wait. */
export class ApiError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly status: number,
    readonly retryAfter = 0,
  ) {
    super(message || code);
    this.name = 'ApiError';
  }
}

let csrf: string | null = null;

/** Turns a response body into an ApiError (exported for tests). */
export function apiErrorOf(status: number, body: unknown): ApiError {
  const e = (body as { error?: { code?: unknown; message?: unknown; retry_after?: unknown } } | null)?.error;
  const code = typeof e?.code === 'string' ? e.code : status === 429 ? 'too_many_attempts' : 'http_' + status;
  const message = typeof e?.message === 'string' ? e.message : '';
  const retry = typeof e?.retry_after === 'number' ? Math.ceil(e.retry_after) : 0;
  return new ApiError(code, message, status, retry);
}

async function call<T>(method: string, path: string, body?: unknown): Promise<T> {
  const headers: Record<string, string> = {};
  if (body !== undefined || method !== 'GET') headers['Content-Type'] = 'application/json';
  if (csrf && method !== 'GET') headers['X-CSRF-Token'] = csrf;
  let res: Response;
  try {
    res = await fetch(path, {
      method,
      headers,
      credentials: 'same-origin',
      body: body === undefined ? (method === 'GET' ? undefined : '{}') : JSON.stringify(body),
    });
  } catch {
    throw new ApiError('not_connected', 'the server could not be reached', 0);
  }
  const text = await res.text();
  let parsed: unknown = null;
  try {
    parsed = text ? JSON.parse(text) : null;
  } catch {
    parsed = null;
  }
  if (!res.ok) throw apiErrorOf(res.status, parsed);
  return parsed as T;
}

/** Publishes this browser's E2EE identity key as a device of the signed-in account, so
 *  that others can pin it (docs/e2ee.md, "Trust on first use"). */
export async function addDevice(publicKey: string, label: string): Promise<void> {
  if (!csrf) await getSession();
  await call('POST', '/api/devices', { public_key: publicKey, label });
}

export async function getSession(): Promise<SessionInfo> {
  const s = await call<SessionInfo>('GET', '/api/session');
  csrf = s.csrf;
  return s;
}

export async function signIn(email: string, password: string): Promise<Account> {
  const r = await call<{ account: Account; csrf: string }>('POST', '/api/signin', { email, password });
  csrf = r.csrf;
  return r.account;
}

export async function signUp(email: string, password: string, name: string, invite?: string): Promise<Account> {
  const r = await call<{ account: Account; csrf: string }>('POST', '/api/signup', {
    email,
    password,
    name,
    ...(invite ? { invite } : {}),
  });
  csrf = r.csrf;
  return r.account;
}

export async function signOut(everywhere = false): Promise<void> {
  await call<null>('POST', everywhere ? '/api/signout-all' : '/api/signout');
  csrf = null;
}

export function createMeeting(settings?: Record<string, unknown>): Promise<CreatedMeeting> {
  return call<CreatedMeeting>('POST', '/api/meetings', settings ? { settings } : {});
}

export async function ownedMeetings(): Promise<OwnedMeeting[]> {
  return (await call<{ meetings: OwnedMeeting[] }>('GET', '/api/meetings')).meetings;
}

export async function newPasscode(id: string): Promise<string> {
  return (await call<{ passcode: string }>('POST', `/api/meetings/${encodeURIComponent(id)}/passcode`)).passcode;
}

export function deleteMeeting(id: string): Promise<null> {
  return call<null>('DELETE', `/api/meetings/${encodeURIComponent(id)}`);
}

/** An operator's action about this account (docs/privacy.md, "Administration in the open"). */
export interface AuditEntry {
  seq: number;
  at: number;
  actor: string;
  action: string;
  details: unknown;
}

export async function auditAboutMe(): Promise<AuditEntry[]> {
  return (await call<{ entries: AuditEntry[] }>('GET', '/api/account/audit')).entries;
}

/** Deletes the signed-in account and everything of it; the password confirms. */
export async function deleteAccount(password: string): Promise<void> {
  await call<null>('DELETE', '/api/account', { password });
  csrf = null;
}

/** Where "Download my data" points (a JSON file, docs/privacy.md "Export"). */
export const EXPORT_URL = '/api/account/export';
