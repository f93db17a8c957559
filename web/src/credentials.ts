// What a join carries besides the meeting id (docs/protocol.md, "Joining"): the passcode
// from the link's fragment (`#p=…`, which browsers never send to a server in a request
// line), the host key the creator of a guest meeting was given, and a random device id
// that lets a host's ban hold for this browser.
const HOST_KEYS = 'conclave.hostKeys';
const DEVICE = 'conclave.device';

/** The passcode in a link's fragment ("#p=abc" or "#…&p=abc"), or null. */
export function passcodeFromHash(hash: string): string | null {
  const params = new URLSearchParams(hash.replace(/^#/, ''));
  const p = params.get('p');
  return p && /^[0-9a-zA-Z]{1,64}$/.test(p) ? p.toLowerCase() : null;
}

/** The fragment for a passcode. */
export function passcodeFragment(passcode: string): string {
  return `p=${encodeURIComponent(passcode)}`;
}

function readKeys(): Record<string, string> {
  try {
    const v = JSON.parse(localStorage.getItem(HOST_KEYS) ?? '{}') as unknown;
    return v && typeof v === 'object' ? (v as Record<string, string>) : {};
  } catch {
    return {};
  }
}

export function hostKeyFor(meetingId: string): string | undefined {
  const k = readKeys()[meetingId];
  return typeof k === 'string' ? k : undefined;
}

export function saveHostKey(meetingId: string, key: string): void {
  try {
    localStorage.setItem(HOST_KEYS, JSON.stringify({ ...readKeys(), [meetingId]: key }));
  } catch {
    /* storage off: this browser will not be host when it comes back */
  }
}

/** This browser's device id (128 random bits, base64url), made once and kept. */
export function deviceId(random: (n: number) => Uint8Array = (n) => crypto.getRandomValues(new Uint8Array(n))): string {
  try {
    const kept = localStorage.getItem(DEVICE);
    if (kept && /^[A-Za-z0-9_-]{16,64}$/.test(kept)) return kept;
  } catch {
    /* fall through: a fresh one per page */
  }
  const id = btoa(String.fromCharCode(...random(16)))
    .replace(/\+/g, '-')
    .replace(/\//g, '_')
    .replace(/=+$/, '');
  try {
    localStorage.setItem(DEVICE, id);
  } catch {
    /* not kept */
  }
  return id;
}
