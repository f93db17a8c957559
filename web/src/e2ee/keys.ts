// The key schedule of docs/e2ee.md on WebCrypto: the byte-for-byte twin of
// src/e2ee/keys.cpp (identity signatures on session announcements, pairwise channels,
// the sender-key ratchet, message keys, KIDs, the security code). Both are held to
// tests/vectors/e2ee-v1.json. Nothing here keeps state; identity.ts keeps the device key.

export type Bytes = Uint8Array;

const enc = new TextEncoder();
export const utf8 = (s: string): Bytes => enc.encode(s);

export function concat(...parts: Bytes[]): Bytes {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

export const u32 = (v: number): Bytes => Uint8Array.of(v >>> 24, (v >>> 16) & 255, (v >>> 8) & 255, v & 255);
export const u16 = (v: number): Bytes => Uint8Array.of((v >>> 8) & 255, v & 255);

export function equalBytes(a: Bytes, b: Bytes): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

export function compareBytes(a: Bytes, b: Bytes): number {
  for (let i = 0; i < Math.min(a.length, b.length); i++) if (a[i] !== b[i]) return a[i] - b[i];
  return a.length - b.length;
}

const B64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';

/** Base64url without padding (RFC 4648 §5). */
export function b64url(b: Bytes): string {
  let s = '';
  let i = 0;
  for (; i + 3 <= b.length; i += 3) {
    const v = (b[i] << 16) | (b[i + 1] << 8) | b[i + 2];
    s += B64[v >> 18] + B64[(v >> 12) & 63] + B64[(v >> 6) & 63] + B64[v & 63];
  }
  const rest = b.length - i;
  if (rest > 0) {
    const v = (b[i] << 16) | (rest === 2 ? b[i + 1] << 8 : 0);
    s += B64[v >> 18] + B64[(v >> 12) & 63] + (rest === 2 ? B64[(v >> 6) & 63] : '');
  }
  return s;
}

/** The inverse of b64url; null for padding, another alphabet or stray bits. */
export function fromB64url(s: unknown): Bytes | null {
  if (typeof s !== 'string' || s.length % 4 === 1) return null;
  const out: number[] = [];
  let acc = 0;
  let bits = 0;
  for (const c of s) {
    const d = B64.indexOf(c);
    if (d < 0) return null;
    acc = ((acc << 6) | d) & 0xffffff;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push((acc >> bits) & 255);
    }
  }
  if (bits > 0 && (acc & ((1 << bits) - 1)) !== 0) return null;
  return Uint8Array.from(out);
}

const subtle = () => crypto.subtle;
const buf = (b: Bytes) => b as BufferSource;

/** HKDF-SHA256 (RFC 5869); an empty salt is HashLen zero bytes. */
export async function hkdfSha256(salt: Bytes, ikm: Bytes, info: Bytes, length: number): Promise<Bytes> {
  const base = await subtle().importKey('raw', buf(ikm), 'HKDF', false, ['deriveBits']);
  const bits = await subtle().deriveBits({ name: 'HKDF', hash: 'SHA-256', salt: buf(salt), info: buf(info) }, base, length * 8);
  return new Uint8Array(bits);
}

// ------------------------------------------------------------------ key pairs

export interface SessionKeys {
  privateKey: CryptoKey;
  /** Raw 32-byte X25519 public key. */
  publicKey: Bytes;
}

export interface IdentityKeys {
  /** Ed25519, non-extractable in a browser (identity.ts). */
  privateKey: CryptoKey;
  publicKey: Bytes;
}

export async function newSession(): Promise<SessionKeys> {
  const kp = (await subtle().generateKey({ name: 'X25519' }, false, ['deriveBits'])) as CryptoKeyPair;
  return { privateKey: kp.privateKey, publicKey: new Uint8Array(await subtle().exportKey('raw', kp.publicKey)) };
}

export async function newIdentity(extractable = false): Promise<IdentityKeys> {
  const kp = (await subtle().generateKey({ name: 'Ed25519' }, extractable, ['sign', 'verify'])) as CryptoKeyPair;
  return { privateKey: kp.privateKey, publicKey: new Uint8Array(await subtle().exportKey('raw', kp.publicKey)) };
}

/** Imports a raw 32-byte private key with its public key (test vectors only). */
export async function importPrivate(curve: 'X25519' | 'Ed25519', priv: Bytes, pub: Bytes): Promise<CryptoKey> {
  const jwk = { kty: 'OKP', crv: curve, d: b64url(priv), x: b64url(pub) };
  return subtle().importKey('jwk', jwk, { name: curve }, false, curve === 'X25519' ? ['deriveBits'] : ['sign']);
}

/** X25519; null for a malformed or low-order public key (an all-zero result). */
export async function x25519(mine: CryptoKey, theirPublic: Bytes): Promise<Bytes | null> {
  if (theirPublic.length !== 32) return null;
  try {
    const pub = await subtle().importKey('raw', buf(theirPublic), { name: 'X25519' }, false, []);
    const bits = new Uint8Array(await subtle().deriveBits({ name: 'X25519', public: pub } as EcdhKeyDeriveParams, mine, 256));
    return bits.every((b) => b === 0) ? null : bits;
  } catch {
    return null;
  }
}

export async function ed25519Sign(key: CryptoKey, message: Bytes): Promise<Bytes> {
  return new Uint8Array(await subtle().sign({ name: 'Ed25519' }, key, buf(message)));
}

export async function ed25519Verify(publicKey: Bytes, message: Bytes, sig: Bytes): Promise<boolean> {
  if (publicKey.length !== 32 || sig.length !== 64) return false;
  try {
    const k = await subtle().importKey('raw', buf(publicKey), { name: 'Ed25519' }, false, ['verify']);
    return await subtle().verify({ name: 'Ed25519' }, k, buf(sig), buf(message));
  } catch {
    return false;
  }
}

// ------------------------------------------------------------------ the schedule

/** "conclave e2ee v1 hello" || meeting || participant || session public || u32(key_id). */
export const helloTranscript = (meeting: string, participant: string, sessionPublic: Bytes, keyId: number): Bytes =>
  concat(utf8('conclave e2ee v1 hello'), utf8(meeting), utf8(participant), sessionPublic, u32(keyId));

const ordered = (a: Bytes, b: Bytes): Bytes => (compareBytes(b, a) < 0 ? concat(b, a) : concat(a, b));

/** The pairwise channel key of two sessions (docs/e2ee.md, "Pairwise channel"). */
export async function pairwiseKey(
  meeting: string,
  mySession: SessionKeys,
  myIdentity: Bytes,
  theirSession: Bytes,
  theirIdentity: Bytes,
): Promise<Bytes | null> {
  const shared = await x25519(mySession.privateKey, theirSession);
  if (!shared) return null;
  const info = concat(utf8(meeting), ordered(myIdentity, theirIdentity), ordered(mySession.publicKey, theirSession));
  return hkdfSha256(utf8('conclave e2ee v1 pairwise'), shared, info, 32);
}

async function gcmKey(raw: Bytes, use: KeyUsage): Promise<CryptoKey> {
  return subtle().importKey('raw', buf(raw), 'AES-GCM', false, [use]);
}

/** AES-256-GCM, 12-byte nonce; ciphertext || 16-byte tag. */
export async function seal(key: Bytes, nonce: Bytes, aad: Bytes, plaintext: Bytes): Promise<Bytes> {
  const k = await gcmKey(key, 'encrypt');
  return new Uint8Array(await subtle().encrypt({ name: 'AES-GCM', iv: buf(nonce), additionalData: buf(aad) }, k, buf(plaintext)));
}

/** The inverse of seal; null when it does not authenticate. */
export async function open(key: Bytes, nonce: Bytes, aad: Bytes, sealed: Bytes): Promise<Bytes | null> {
  if (key.length !== 32 || nonce.length !== 12 || sealed.length < 16) return null;
  try {
    const k = await gcmKey(key, 'decrypt');
    return new Uint8Array(await subtle().decrypt({ name: 'AES-GCM', iv: buf(nonce), additionalData: buf(aad) }, k, buf(sealed)));
  } catch {
    return null;
  }
}

export const sealedAad = (from: string, to: string, meeting: string): Bytes =>
  concat(utf8('conclave e2ee v1 sealed'), utf8(from), utf8(to), utf8(meeting));

export const ratchet = (base: Bytes): Promise<Bytes> => hkdfSha256(new Uint8Array(0), base, utf8('conclave e2ee v1 ratchet'), 16);
export const messageKey = (base: Bytes): Promise<Bytes> =>
  hkdfSha256(new Uint8Array(0), base, utf8('conclave e2ee v1 message'), 32);
export const messageAad = (from: string, meeting: string, keyId: number, epoch: number): Bytes =>
  concat(utf8('conclave e2ee v1 message'), utf8(from), utf8(meeting), u32(keyId), u16(epoch));

/** KID = u32(key_id) << 16 | u16(epoch): 48 bits, exact as a JS number. */
export const kidOf = (keyId: number, epoch: number): number => keyId * 65536 + (epoch & 0xffff);
export const splitKid = (kid: number): { keyId: number; epoch: number } => ({ keyId: Math.floor(kid / 65536), epoch: kid % 65536 });

/** 6 groups of 5 digits over the meeting and the sorted identity keys of every key holder. */
export async function securityCode(meeting: string, identities: Bytes[]): Promise<string> {
  const sorted = [...identities].sort(compareBytes);
  const digest = new Uint8Array(await subtle().digest('SHA-256', buf(concat(utf8('conclave e2ee v1 code'), utf8(meeting), ...sorted))));
  const groups: string[] = [];
  for (let g = 0; g < 6; g++) {
    const v = ((digest[4 * g] << 24) | (digest[4 * g + 1] << 16) | (digest[4 * g + 2] << 8) | digest[4 * g + 3]) >>> 0;
    groups.push(String(v % 100000).padStart(5, '0'));
  }
  return groups.join(' ');
}

export function randomBytes(n: number): Bytes {
  return crypto.getRandomValues(new Uint8Array(n));
}

/** 32 random bits that name a sender in its KIDs. */
export const newKeyId = (): number => crypto.getRandomValues(new Uint32Array(1))[0];
