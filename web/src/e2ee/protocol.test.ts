// The key schedule and relay messages (keys.ts, protocol.ts, media.ts) against our own
// vector file, tests/vectors/e2ee-v1.json, which the C++ suite reproduces byte for byte
// (tests/unit/e2ee_protocol_test.cpp): every output recomputed here from its inputs.
import { describe, expect, test } from 'vitest';
import {
  b64url,
  fromB64url,
  helloTranscript,
  importPrivate,
  messageAad,
  messageKey,
  pairwiseKey,
  ratchet,
  securityCode,
  sealedAad,
  x25519,
  type IdentityKeys,
} from './keys';
import {
  dmMessage,
  helloMessage,
  keyMessage,
  keyPlaintext,
  msgMessage,
  openEntry,
  openHello,
  openMsg,
  parseKeyPlaintext,
  sealEntry,
} from './protocol';
import { MediaKeys, SenderState, vp8ClearPrefix, prefixMetadata } from './media';

import raw from '../../../tests/vectors/e2ee-v1.json?raw';

const v = JSON.parse(raw);
const hex = (h: string) => Uint8Array.from(h.match(/../g) ?? [], (b) => parseInt(b, 16));
const toHex = (b: Uint8Array) => [...b].map((x) => x.toString(16).padStart(2, '0')).join('');
const text = (b: Uint8Array) => new TextDecoder().decode(b);
const utf8 = (s: string) => new TextEncoder().encode(s);
const meeting: string = v.meeting;
const [A, B, C] = v.parties as {
  id: string;
  identity_private: string;
  identity_public: string;
  session_private: string;
  session_public: string;
  key_id: number;
}[];

async function identityOf(p: typeof A): Promise<IdentityKeys> {
  return { privateKey: await importPrivate('Ed25519', hex(p.identity_private), hex(p.identity_public)), publicKey: hex(p.identity_public) };
}
async function sessionOf(p: typeof A) {
  return { privateKey: await importPrivate('X25519', hex(p.session_private), hex(p.session_public)), publicKey: hex(p.session_public) };
}

describe('e2ee-v1 vectors (shared with the C++ suite)', () => {
  test('hello: transcript and the whole signed message', async () => {
    expect(toHex(helloTranscript(meeting, A.id, hex(A.session_public), A.key_id))).toBe(v.hello.transcript);
    const m = await helloMessage(meeting, A.id, await identityOf(A), hex(A.session_public), A.key_id);
    expect(m).toEqual(v.hello.message);
    const opened = await openHello(v.hello.message, meeting, A.id);
    expect(opened && toHex(opened.identity)).toBe(A.identity_public);
    expect(await openHello(v.hello.message, meeting, B.id)).toBeNull();
    expect(await openHello(v.hello.message, 'another-meeting', A.id)).toBeNull();
  });

  test('pairwise keys: X25519 then HKDF, the same from both ends', async () => {
    const sa = await sessionOf(A);
    const sb = await sessionOf(B);
    expect(toHex((await x25519(sa.privateKey, hex(B.session_public)))!)).toBe(v.pairwise.shared_a_b);
    const ab = await pairwiseKey(meeting, sa, hex(A.identity_public), hex(B.session_public), hex(B.identity_public));
    const ba = await pairwiseKey(meeting, sb, hex(B.identity_public), hex(A.session_public), hex(A.identity_public));
    expect(toHex(ab!)).toBe(v.pairwise.a_b);
    expect(toHex(ba!)).toBe(v.pairwise.a_b);
    const ac = await pairwiseKey(meeting, sa, hex(A.identity_public), hex(C.session_public), hex(C.identity_public));
    expect(toHex(ac!)).toBe(v.pairwise.a_c);
    expect(await x25519(sa.privateKey, new Uint8Array(32))).toBeNull(); // low order
  });

  test('the ratchet chain and message keys', async () => {
    for (let i = 0; i < v.ratchet.length; i++) {
      const e = v.ratchet[i];
      expect(toHex(await messageKey(hex(e.base)))).toBe(e.message_key);
      if (i > 0) expect(toHex(await ratchet(hex(v.ratchet[i - 1].base)))).toBe(e.base);
    }
  });

  test('key: a sender key sealed for one newcomer', async () => {
    const k = v.key;
    expect(toHex(sealedAad(k.from, k.to, meeting))).toBe(k.aad);
    const plain = keyPlaintext({ keyId: A.key_id, epoch: 1, base: hex(v.ratchet[1].base) });
    expect(toHex(plain)).toBe(k.plaintext);
    const m = keyMessage(await sealEntry(hex(v.pairwise.a_b), k.from, k.to, meeting, plain, hex(k.nonce)));
    expect(m).toEqual(k.message);
    const opened = await openEntry(k.message, hex(v.pairwise.a_b), k.from, k.to, meeting);
    expect(parseKeyPlaintext(opened!)).toEqual({ keyId: A.key_id, epoch: 1, base: hex(v.ratchet[1].base) });
    expect(await openEntry(k.message, hex(v.pairwise.a_b), k.from, C.id, meeting)).toBeNull();
  });

  test('rekey: a fresh key for every remaining holder, each sealed for its own recipient', async () => {
    const k = v.rekey;
    const plain = hex(k.plaintext);
    const each = {
      [B.id]: keyMessage(await sealEntry(hex(v.pairwise.a_b), A.id, B.id, meeting, plain, hex(k.nonces[B.id]))),
      [C.id]: keyMessage(await sealEntry(hex(v.pairwise.a_c), A.id, C.id, meeting, plain, hex(k.nonces[C.id]))),
    };
    expect(each).toEqual(k.each);
    // B cannot open C's key, even with its own channel to A.
    expect(await openEntry(k.each[C.id], hex(v.pairwise.a_b), A.id, B.id, meeting)).toBeNull();
  });

  test('msg and dm: content under the message key, and on the pairwise channel', async () => {
    const m = v.msg;
    expect(toHex(messageAad(m.from, meeting, m.key_id, m.epoch))).toBe(m.aad);
    expect(await msgMessage(hex(m.base), m.from, meeting, m.key_id, m.epoch, utf8(m.plaintext), hex(m.nonce))).toEqual(m.message);
    expect(text((await openMsg(m.message, hex(m.base), m.from, meeting))!)).toBe(m.plaintext);
    expect(await openMsg(m.message, hex(m.base), B.id, meeting)).toBeNull();
    expect(await openMsg({ ...m.message, kid: m.message.kid + 1 }, hex(m.base), m.from, meeting)).toBeNull();
    const d = v.dm;
    expect(dmMessage(await sealEntry(hex(v.pairwise.a_b), d.from, d.to, meeting, utf8(d.plaintext), hex(d.nonce)))).toEqual(d.message);
  });

  test('media frames: clear prefix, SFrame, and back', async () => {
    const f = v.frames;
    const sender = await SenderState.create(f.key_id, hex(v.ratchet[0].base));
    await sender.ratchet();
    expect(sender.epoch).toBe(f.epoch);
    const keys = new MediaKeys();
    await keys.set(f.key_id, f.epoch, hex(f.base));
    const replay = new Map();
    for (const fr of f.list) {
      const frame = hex(fr.frame);
      const prefix = fr.what === 'opus' ? 0 : vp8ClearPrefix(frame);
      expect(prefix).toBe(fr.prefix_len);
      expect(toHex(prefixMetadata(frame.subarray(0, prefix)))).toBe(fr.metadata);
      const out = await sender.protect(frame, prefix);
      expect(toHex(out)).toBe(fr.protected);
      const back = await keys.unprotect(out, fr.what === 'opus' ? 'audio' : 'video', replay, 0);
      expect(back.result).toBe('ok');
      expect(toHex(back.frame!)).toBe(fr.frame);
    }
  });

  test('the security code', async () => {
    expect(await securityCode(meeting, v.security_code.identities.map(hex))).toBe(v.security_code.code);
    expect(await securityCode(meeting, [...v.security_code.identities].reverse().map(hex))).toBe(v.security_code.code);
  });
});

describe('base64url', () => {
  test('round trips and refuses other forms', () => {
    for (let n = 0; n < 40; n++) {
      const b = Uint8Array.from({ length: n }, (_, i) => (i * 37 + n) & 255);
      expect(fromB64url(b64url(b))).toEqual(b);
    }
    expect(b64url(Uint8Array.of(0xfb, 0xff))).toBe('-_8');
    for (const bad of ['-_8=', '+/8', 'A', '-_9', 7, null]) expect(fromB64url(bad)).toBeNull();
  });
});
