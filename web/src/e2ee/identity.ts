// This device's identity key (docs/e2ee.md, "Keys"): an Ed25519 key pair made once per
// browser profile with `extractable: false` and kept in IndexedDB, so that no script
// (ours included) can ever read the private half; only the browser can sign with it.
import { newIdentity, type IdentityKeys } from './keys';

const DB = 'conclave-e2ee';
const STORE = 'identity';
const PINS = 'pins';

function request<T>(r: IDBRequest<T>): Promise<T> {
  return new Promise((resolve, reject) => {
    r.onsuccess = () => resolve(r.result);
    r.onerror = () => reject(r.error);
  });
}

function openDb(): Promise<IDBDatabase> {
  const r = indexedDB.open(DB, 2);
  r.onupgradeneeded = () => {
    for (const name of [STORE, PINS]) if (!r.result.objectStoreNames.contains(name)) r.result.createObjectStore(name);
  };
  return request(r);
}

let cached: Promise<IdentityKeys> | null = null;

/** The device identity, made on first use. Without IndexedDB (a private window that
 *  refuses it) a key for this page's life is made instead: it still works, but the
 *  others see a new device next time. */
export function deviceIdentity(): Promise<IdentityKeys> {
  cached ??= (async () => {
    let db: IDBDatabase | null = null;
    try {
      db = await openDb();
      const stored = (await request(db.transaction(STORE).objectStore(STORE).get('device'))) as IdentityKeys | undefined;
      if (stored?.privateKey && stored.publicKey) return stored;
    } catch {
      db = null;
    }
    const fresh = await newIdentity(false);
    if (db) {
      try {
        await request(db.transaction(STORE, 'readwrite').objectStore(STORE).put(fresh, 'device'));
      } catch {
        // Kept for this page only.
      }
    }
    return fresh;
  })();
  return cached;
}

/** The identity keys (base64url) this browser has pinned for an account: the ones seen
 *  in that person's verified hellos and accepted. Empty when never met, or when the
 *  browser keeps no storage. */
export async function pinnedKeys(account: number): Promise<string[]> {
  try {
    const db = await openDb();
    return ((await request(db.transaction(PINS).objectStore(PINS).get(account))) as string[] | undefined) ?? [];
  } catch {
    return [];
  }
}

export async function pinKey(account: number, key: string): Promise<void> {
  try {
    const db = await openDb();
    const store = db.transaction(PINS, 'readwrite').objectStore(PINS);
    const keys = ((await request(store.get(account))) as string[] | undefined) ?? [];
    if (!keys.includes(key)) await request(store.put([...keys, key], account));
  } catch {
    // No storage: nothing pinned, every meeting is a first meeting.
  }
}

/** A short, readable fingerprint of an identity key: 4 groups of 4 hex digits of its
 *  SHA-256, enough to tell one device from another in the Security panel. */
export async function fingerprint(identity: Uint8Array): Promise<string> {
  const d = new Uint8Array(await crypto.subtle.digest('SHA-256', identity as BufferSource));
  const hex = [...d.subarray(0, 8)].map((b) => b.toString(16).padStart(2, '0')).join('');
  return hex.match(/..../g)!.join(' ');
}
