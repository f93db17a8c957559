// The relay messages of docs/e2ee.md ("Messages"), built and opened on WebCrypto: the twin
// of src/e2ee/protocol.cpp, held to the same whole messages in tests/vectors/e2ee-v1.json.
// Every opener returns null for anything malformed, moved or tampered with: the server
// (our adversary) writes the envelope and may write anything into it.
import {
  b64url,
  concat,
  ed25519Sign,
  ed25519Verify,
  fromB64url,
  helloTranscript,
  messageAad,
  messageKey,
  open,
  randomBytes,
  seal,
  sealedAad,
  splitKid,
  kidOf,
  u16,
  u32,
  type Bytes,
  type IdentityKeys,
} from './keys';

export const E2EE_TAG = 'conclave-e2ee/1';

export type Kind = 'hello' | 'key' | 'msg' | 'dm';
export interface Entry {
  n: string;
  c: string;
}
export interface HelloMessage {
  t: typeof E2EE_TAG;
  kind: 'hello';
  identity: string;
  session: string;
  key_id: number;
  sig: string;
}
export type KeyMessage = { t: typeof E2EE_TAG; kind: 'key' } & Entry;
export type DmMessage = { t: typeof E2EE_TAG; kind: 'dm' } & Entry;
export type MsgMessage = { t: typeof E2EE_TAG; kind: 'msg'; kid: number } & Entry;

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** The kind of a protocol message, or null when `m` is not one. */
export function kindOf(m: unknown): Kind | null {
  if (!isObject(m) || m.t !== E2EE_TAG) return null;
  return ['hello', 'key', 'msg', 'dm'].includes(m.kind as string) ? (m.kind as Kind) : null;
}

function field(m: Record<string, unknown>, name: string, size = 0): Bytes | null {
  const b = fromB64url(m[name]);
  return b && (!size || b.length === size) ? b : null;
}

const isU32 = (v: unknown): v is number => Number.isInteger(v) && (v as number) >= 0 && (v as number) <= 0xffffffff;

export async function helloMessage(meeting: string, participant: string, identity: IdentityKeys, sessionPublic: Bytes, keyId: number): Promise<HelloMessage> {
  const sig = await ed25519Sign(identity.privateKey, helloTranscript(meeting, participant, sessionPublic, keyId));
  return { t: E2EE_TAG, kind: 'hello', identity: b64url(identity.publicKey), session: b64url(sessionPublic), key_id: keyId, sig: b64url(sig) };
}

export interface Hello {
  identity: Bytes;
  session: Bytes;
  keyId: number;
}

/** The hello of `from` (the sender the server put on the relay), if its signature verifies. */
export async function openHello(m: unknown, meeting: string, from: string): Promise<Hello | null> {
  if (kindOf(m) !== 'hello' || !isObject(m)) return null;
  const identity = field(m, 'identity', 32);
  const session = field(m, 'session', 32);
  const sig = field(m, 'sig', 64);
  if (!identity || !session || !sig || !isU32(m.key_id)) return null;
  if (!(await ed25519Verify(identity, helloTranscript(meeting, from, session, m.key_id), sig))) return null;
  return { identity, session, keyId: m.key_id };
}

export interface KeyUpdate {
  keyId: number;
  epoch: number;
  base: Bytes;
}

export const keyPlaintext = (k: KeyUpdate): Bytes => concat(u32(k.keyId), u16(k.epoch), k.base);

export function parseKeyPlaintext(p: Bytes): KeyUpdate | null {
  if (p.length !== 22) return null;
  return { keyId: ((p[0] << 24) | (p[1] << 16) | (p[2] << 8) | p[3]) >>> 0, epoch: (p[4] << 8) | p[5], base: p.slice(6) };
}

export async function sealEntry(pairwise: Bytes, from: string, to: string, meeting: string, plaintext: Bytes, nonce = randomBytes(12)): Promise<Entry> {
  return { n: b64url(nonce), c: b64url(await seal(pairwise, nonce, sealedAad(from, to, meeting), plaintext)) };
}

export async function openEntry(entry: unknown, pairwise: Bytes, from: string, to: string, meeting: string): Promise<Bytes | null> {
  if (!isObject(entry)) return null;
  const n = field(entry, 'n', 12);
  const c = field(entry, 'c');
  if (!n || !c) return null;
  return open(pairwise, n, sealedAad(from, to, meeting), c);
}

export const keyMessage = (e: Entry): KeyMessage => ({ ...e, t: E2EE_TAG, kind: 'key' });
export const dmMessage = (e: Entry): DmMessage => ({ ...e, t: E2EE_TAG, kind: 'dm' });

export async function msgMessage(
  base: Bytes,
  from: string,
  meeting: string,
  keyId: number,
  epoch: number,
  plaintext: Bytes,
  nonce = randomBytes(12),
): Promise<MsgMessage> {
  const c = await seal(await messageKey(base), nonce, messageAad(from, meeting, keyId, epoch), plaintext);
  return { t: E2EE_TAG, kind: 'msg', kid: kidOf(keyId, epoch), n: b64url(nonce), c: b64url(c) };
}

/** The KID a msg names (48 bits), or null. */
export function msgKid(m: unknown): number | null {
  if (kindOf(m) !== 'msg' || !isObject(m)) return null;
  const kid = m.kid;
  return Number.isSafeInteger(kid) && (kid as number) >= 0 && (kid as number) < 2 ** 48 ? (kid as number) : null;
}

export async function openMsg(m: unknown, base: Bytes, from: string, meeting: string): Promise<Bytes | null> {
  const kid = msgKid(m);
  if (kid === null || !isObject(m)) return null;
  const n = field(m, 'n', 12);
  const c = field(m, 'c');
  if (!n || !c) return null;
  const { keyId, epoch } = splitKid(kid);
  return open(await messageKey(base), n, messageAad(from, meeting, keyId, epoch), c);
}
