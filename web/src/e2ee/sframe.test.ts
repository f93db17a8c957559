// src/e2ee/sframe.ts against RFC 9605 Appendix C: the same file the C++ suite checks
// (tests/vectors/sframe-rfc9605.json), headers and the AES-GCM suites 4 and 5.
import { describe, expect, test } from 'vitest';
import { decodeHeader, deriveKeyMaterial, encodeHeader, nonceFor, protect, unprotect, type GcmSuite } from './sframe';

import raw from '../../../tests/vectors/sframe-rfc9605.json?raw';

// 64-bit counters do not fit a JS number: read every long integer as a string first.
const vectors = JSON.parse(raw.replace(/:\s*(\d{16,})/g, ': "$1"'));
const hex = (h: string) => Uint8Array.from(h.match(/../g) ?? [], (b) => parseInt(b, 16));
const toHex = (b: Uint8Array) => [...b].map((x) => x.toString(16).padStart(2, '0')).join('');

describe('SFrame headers (RFC 9605 C.1)', () => {
  test('every vector encodes and decodes, and a cut-short header is refused', () => {
    expect(vectors.header.length).toBeGreaterThan(100);
    for (const v of vectors.header as { kid: number | string; ctr: number | string; encoded: string }[]) {
      const h = { kid: BigInt(v.kid), ctr: BigInt(v.ctr) };
      const bytes = encodeHeader(h);
      expect(toHex(bytes)).toBe(v.encoded);
      const back = decodeHeader(bytes);
      expect(back?.header).toEqual(h);
      expect(back?.size).toBe(bytes.length);
      for (let n = 0; n < bytes.length; n++) expect(decodeHeader(bytes.subarray(0, n))).toBeNull();
    }
  });
});

describe('SFrame encryption (RFC 9605 C.4), AES-GCM suites', () => {
  const gcm = (vectors.sframe as Record<string, string | number>[]).filter((v) => v.cipher_suite === 4 || v.cipher_suite === 5);
  test('the vectors of suites 4 and 5 are there', () => expect(gcm.map((v) => v.cipher_suite)).toEqual([4, 5]));
  for (const v of gcm) {
    test(`suite ${v.cipher_suite}: key, salt, nonce, frame, and back`, async () => {
      const suite = v.cipher_suite as GcmSuite;
      const kid = BigInt(v.kid);
      const ctr = BigInt(v.ctr);
      const km = await deriveKeyMaterial(suite, kid, hex(v.base_key as string), true);
      expect(toHex(km.raw!)).toBe(v.sframe_key);
      expect(toHex(km.salt)).toBe(v.sframe_salt);
      expect(toHex(nonceFor(km, ctr))).toBe(v.nonce);
      const frame = await protect(km, ctr, hex(v.metadata as string), hex(v.pt as string));
      expect(toHex(frame)).toBe(v.ct);
      const r = await unprotect((k) => (k === kid ? km : null), hex(v.metadata as string), frame);
      expect('plaintext' in r && toHex(r.plaintext)).toBe(v.pt);
    });
  }
  test('tampering, another metadata and an unknown key are refused', async () => {
    const km = await deriveKeyMaterial(4, 5n, new Uint8Array(16).fill(7));
    const meta = Uint8Array.from([0x02, 0x10, 0x02]);
    const frame = await protect(km, 9n, meta, new Uint8Array(40).fill(0x42));
    const keyFor = (k: bigint) => (k === 5n ? km : null);
    const flipped = Uint8Array.from(frame);
    flipped[10] ^= 1;
    expect(await unprotect(keyFor, meta, flipped)).toEqual({ error: 'authentication' });
    expect(await unprotect(keyFor, Uint8Array.from([0x02, 0x10, 0x03]), frame)).toEqual({ error: 'authentication' });
    expect(await unprotect(() => null, meta, frame)).toEqual({ error: 'unknown_key' });
    expect(await unprotect(keyFor, meta, frame.subarray(0, 10))).toEqual({ error: 'short_frame' });
  });
});
