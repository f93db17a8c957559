// SFrame (RFC 9605) in the browser: the header, key derivation and the AES-GCM suites
// (4: AES_128_GCM_SHA256_128, the one media uses; 5: AES_256_GCM_SHA512_128) on
// WebCrypto. The byte-for-byte twin of src/e2ee/sframe.cpp; both are checked against the
// RFC's vectors (tests/vectors/sframe-rfc9605.json). Runs in the encoded-transform worker
// (docs/e2ee.md), so it touches nothing but `crypto.subtle`.

import { concat } from './keys';

export type GcmSuite = 4 | 5;

const SUITES: Record<GcmSuite, { keySize: number; hash: 'SHA-256' | 'SHA-512' }> = {
  4: { keySize: 16, hash: 'SHA-256' },
  5: { keySize: 32, hash: 'SHA-512' },
};
const NONCE = 12;
const TAG = 16;

export interface Header {
  kid: bigint;
  ctr: bigint;
}

function minBytes(v: bigint): number {
  let n = 1;
  while (n < 8 && v >> BigInt(8 * n) !== 0n) n++;
  return n;
}

function be(v: bigint, n: number): number[] {
  const out: number[] = [];
  for (let i = n - 1; i >= 0; i--) out.push(Number((v >> BigInt(8 * i)) & 0xffn));
  return out;
}

/** §4.3: the header, minimally encoded (1 to 17 bytes). */
export function encodeHeader({ kid, ctr }: Header): Uint8Array {
  const x = kid >= 8n;
  const y = ctr >= 8n;
  const kidLen = x ? minBytes(kid) : 0;
  const ctrLen = y ? minBytes(ctr) : 0;
  const first = (x ? 0x80 | ((kidLen - 1) << 4) : Number(kid) << 4) | (y ? 0x08 | (ctrLen - 1) : Number(ctr));
  return Uint8Array.from([first, ...(x ? be(kid, kidLen) : []), ...(y ? be(ctr, ctrLen) : [])]);
}

/** Reads a header from the start of `data`: it and its size, or null if too short. */
export function decodeHeader(data: Uint8Array): { header: Header; size: number } | null {
  if (data.length === 0) return null;
  const first = data[0];
  let at = 1;
  const read = (n: number): bigint | null => {
    if (data.length < at + n) return null;
    let v = 0n;
    for (let i = 0; i < n; i++) v = (v << 8n) | BigInt(data[at + i]);
    at += n;
    return v;
  };
  const kid = first & 0x80 ? read(((first >> 4) & 7) + 1) : BigInt((first >> 4) & 7);
  if (kid === null) return null;
  const ctr = first & 0x08 ? read((first & 7) + 1) : BigInt(first & 7);
  if (ctr === null) return null;
  return { header: { kid, ctr }, size: at };
}

export interface KeyMaterial {
  suite: GcmSuite;
  kid: bigint;
  key: CryptoKey;
  /** The raw key bytes, kept only where a test needs them (`exportable`). */
  raw?: Uint8Array;
  salt: Uint8Array;
}

const text = (s: string) => new TextEncoder().encode(s);

function label(what: string, kid: bigint, suite: number): Uint8Array {
  return Uint8Array.from([...text(what), ...be(kid, 8), ...be(BigInt(suite), 2)]);
}

async function hkdf(hash: string, ikm: Uint8Array, info: Uint8Array, bytes: number): Promise<Uint8Array> {
  const base = await crypto.subtle.importKey('raw', ikm as BufferSource, 'HKDF', false, ['deriveBits']);
  // An empty salt: WebCrypto then uses HashLen zero bytes, as RFC 5869 says.
  const bits = await crypto.subtle.deriveBits(
    { name: 'HKDF', hash, salt: new Uint8Array(0), info: info as BufferSource },
    base,
    bytes * 8,
  );
  return new Uint8Array(bits);
}

/** §4.4.2: a sender's key and salt for one KID, from its base key. */
export async function deriveKeyMaterial(suite: GcmSuite, kid: bigint, baseKey: Uint8Array, exportable = false): Promise<KeyMaterial> {
  const { keySize, hash } = SUITES[suite];
  const raw = await hkdf(hash, baseKey, label('SFrame 1.0 Secret key ', kid, suite), keySize);
  const salt = await hkdf(hash, baseKey, label('SFrame 1.0 Secret salt ', kid, suite), NONCE);
  const key = await crypto.subtle.importKey('raw', raw as BufferSource, 'AES-GCM', false, ['encrypt', 'decrypt']);
  return { suite, kid, key, salt, ...(exportable ? { raw } : {}) };
}

/** §4.4.3: the salt XOR the counter, big-endian, right-aligned. */
export function nonceFor(km: KeyMaterial, ctr: bigint): Uint8Array {
  const nonce = Uint8Array.from(km.salt);
  for (let i = 0; i < 8; i++) nonce[NONCE - 1 - i] ^= Number((ctr >> BigInt(8 * i)) & 0xffn);
  return nonce;
}


/** header || AES-GCM(key, salt ^ ctr, header || metadata, plaintext). */
export async function protect(km: KeyMaterial, ctr: bigint, metadata: Uint8Array, plaintext: Uint8Array): Promise<Uint8Array> {
  const header = encodeHeader({ kid: km.kid, ctr });
  const ct = await crypto.subtle.encrypt(
    { name: 'AES-GCM', iv: nonceFor(km, ctr) as BufferSource, additionalData: concat(header, metadata) as BufferSource, tagLength: TAG * 8 },
    km.key,
    plaintext as BufferSource,
  );
  return concat(header, new Uint8Array(ct));
}

export type UnprotectError = 'short_frame' | 'unknown_key' | 'authentication';

/** The header's KID picks the key (`keyFor` returns null for an unknown one). */
export async function unprotect(
  keyFor: (kid: bigint) => KeyMaterial | null,
  metadata: Uint8Array,
  frame: Uint8Array,
): Promise<{ plaintext: Uint8Array; header: Header } | { error: UnprotectError }> {
  const decoded = decodeHeader(frame);
  if (!decoded || frame.length < decoded.size + TAG) return { error: 'short_frame' };
  const km = keyFor(decoded.header.kid);
  if (!km) return { error: 'unknown_key' };
  try {
    const pt = await crypto.subtle.decrypt(
      {
        name: 'AES-GCM',
        iv: nonceFor(km, decoded.header.ctr) as BufferSource,
        additionalData: concat(frame.subarray(0, decoded.size), metadata) as BufferSource,
        tagLength: TAG * 8,
      },
      km.key,
      frame.subarray(decoded.size) as BufferSource,
    );
    return { plaintext: new Uint8Array(pt), header: decoded.header };
  } catch {
    return { error: 'authentication' };
  }
}
