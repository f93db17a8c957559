// Parsing what a person pastes into "Join a meeting": a full link to this server
// (https://host/m/<id>#<secret>) or a bare meeting id. The secret lives in the URL
// fragment so that it never reaches the server in a request line or a log.

export interface MeetingRef {
  id: string;
  /** The fragment without '#', carried over untouched (passcode, later keys). */
  fragment: string;
}

// Meeting ids are lowercase letters, digits and dashes. The server decides the exact
// format (meeting-security issue); the client only refuses what cannot be an id, so that
// nothing odd is ever put into a path.
const ID = /^[a-z0-9](?:[a-z0-9-]{1,62}[a-z0-9])$/;

export function isMeetingId(s: string): boolean {
  return ID.test(s) && !s.includes('--');
}

/**
 * Returns the meeting a pasted text names, or null. `origin` is this page's origin: a
 * link to any other server is refused rather than followed, since following it would
 * send the person (and the passcode in the fragment) somewhere else.
 */
export function parseMeetingInput(input: string, origin: string): MeetingRef | null {
  const text = input.trim();
  if (text === '') return null;
  let path = text;
  let fragment = '';
  if (/^[a-z][a-z0-9+.-]*:/i.test(text)) {
    let url: URL;
    try {
      url = new URL(text);
    } catch {
      return null;
    }
    if (url.origin !== origin) return null;
    path = url.pathname;
    fragment = url.hash.replace(/^#/, '');
  } else {
    const hash = text.indexOf('#');
    if (hash >= 0) {
      fragment = text.slice(hash + 1);
      path = text.slice(0, hash);
    }
  }
  const m = /^\/?(?:m\/)?([^/?#]+)\/?$/.exec(path);
  if (!m) return null;
  const id = m[1].toLowerCase();
  return isMeetingId(id) ? { id, fragment } : null;
}

export function meetingPath(ref: MeetingRef): string {
  return `/m/${ref.id}` + (ref.fragment ? `#${ref.fragment}` : '');
}

// Meeting ids are made by the server (POST /api/meetings: 80 random bits, four groups of
// four Crockford base32 characters); the client never makes one up.
