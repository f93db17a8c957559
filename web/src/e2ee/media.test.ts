// media.ts, the key state the encoded-transform worker runs on: what a joiner, a leaver,
// a tamperer and a replayer get (docs/e2ee.md, "Sender keys and epochs", "Frames").
import { describe, expect, test } from 'vitest';
import { MediaKeys, SenderState, PREVIOUS_EPOCH_GRACE_MS, type ReplayWindows } from './media';
import { randomBytes } from './keys';

const KEY_ID = 0x1a2b3c4d;
// A VP8 key frame: the key-frame bit (low bit of byte 0) clear, start code, 640×360.
const keyFrame = () => Uint8Array.from([0x50, 0x42, 0x00, 0x9d, 0x01, 0x2a, 0x80, 0x02, 0x68, 0x01, ...randomBytes(200)]);
const deltaFrame = () => Uint8Array.from([0x31, 0x05, 0x00, ...randomBytes(100)]);

async function pair() {
  const base = randomBytes(16);
  const sender = await SenderState.create(KEY_ID, base);
  const receiver = new MediaKeys();
  await receiver.set(KEY_ID, 0, base);
  return { sender, receiver, base };
}

const fresh = (): ReplayWindows => new Map();

describe('media keys', () => {
  test('frames round-trip with the clear prefix readable and the rest not', async () => {
    const { sender, receiver } = await pair();
    const frame = keyFrame();
    const sent = await sender.protect(frame, 10);
    expect([...sent.subarray(0, 10)]).toEqual([...frame.subarray(0, 10)]);
    const hex = (b: Uint8Array) => [...b].map((x) => x.toString(16).padStart(2, '0')).join('');
    expect(hex(sent).includes(hex(frame.subarray(10, 40)))).toBe(false);
    const r = await receiver.unprotect(sent, 'video', fresh(), 0);
    expect(r.result).toBe('ok');
    expect(r.frame).toEqual(frame);
  });

  test('a joiner, given the ratcheted key, cannot decrypt frames from before it joined', async () => {
    const { sender } = await pair();
    const before = await sender.protect(deltaFrame(), 3);
    await sender.ratchet();
    const joiner = new MediaKeys();
    await joiner.set(KEY_ID, sender.epoch, sender.base);
    expect((await joiner.unprotect(before, 'video', fresh(), 0)).result).toBe('old_epoch');
    expect((await joiner.unprotect(await sender.protect(deltaFrame(), 3), 'video', fresh(), 0)).result).toBe('ok');
  });

  test('the others follow a join ratchet by themselves, without a key message', async () => {
    const { sender, receiver } = await pair();
    await sender.ratchet();
    await sender.ratchet();
    const r = await receiver.unprotect(await sender.protect(deltaFrame(), 3), 'video', fresh(), 0);
    expect(r.result).toBe('ok');
    expect(receiver.epochOf(KEY_ID)).toBe(2);
  });

  test('a leaver cannot decrypt frames under the fresh key, and a guess at it counts as no key', async () => {
    const { sender, receiver: leaver } = await pair();
    await sender.rekey(randomBytes(16));
    const after = await sender.protect(deltaFrame(), 3);
    expect((await leaver.unprotect(after, 'video', fresh(), 0)).result).toBe('no_key');
    // A remaining holder who gets the key decrypts it.
    const stays = new MediaKeys();
    await stays.set(KEY_ID, sender.epoch, sender.base);
    expect((await stays.unprotect(after, 'video', fresh(), 0)).result).toBe('ok');
  });

  test('tampered frames, prefixes and key-frame bits are refused', async () => {
    const { sender, receiver } = await pair();
    const windows = fresh();
    const sent = await sender.protect(keyFrame(), 10);
    const flip = (at: number, bit = 1) => {
      const x = Uint8Array.from(sent);
      x[at] ^= bit;
      return x;
    };
    expect((await receiver.unprotect(flip(sent.length - 1), 'video', windows, 0)).result).toBe('authentication');
    expect((await receiver.unprotect(flip(7), 'video', windows, 0)).result).toBe('authentication'); // a dimension
    // The key-frame bit moves the prefix boundary: the metadata no longer matches.
    expect((await receiver.unprotect(flip(0), 'video', windows, 0)).result).not.toBe('ok');
    expect((await receiver.unprotect(sent.subarray(0, 12), 'video', windows, 0)).result).toBe('malformed');
    expect((await receiver.unprotect(sent, 'video', windows, 0)).result).toBe('ok');
  });

  test('a replayed counter is refused, an out-of-order one within the window is not', async () => {
    const { sender, receiver } = await pair();
    const windows = fresh();
    const a = await sender.protect(deltaFrame(), 3);
    const b = await sender.protect(deltaFrame(), 3);
    expect((await receiver.unprotect(b, 'video', windows, 0)).result).toBe('ok');
    expect((await receiver.unprotect(a, 'video', windows, 0)).result).toBe('ok');
    expect((await receiver.unprotect(a, 'video', windows, 0)).result).toBe('replay');
    expect((await receiver.unprotect(b, 'video', windows, 0)).result).toBe('replay');
    // Another received track keeps its own window (audio and video share the counter).
    expect((await receiver.unprotect(b, 'video', fresh(), 0)).result).toBe('ok');
  });

  test('the previous epoch is accepted briefly after the new one starts, then refused', async () => {
    const { sender, receiver } = await pair();
    const old = await sender.protect(deltaFrame(), 3);
    const old2 = await sender.protect(deltaFrame(), 3);
    await sender.rekey(randomBytes(16));
    await receiver.set(KEY_ID, sender.epoch, sender.base);
    expect((await receiver.unprotect(await sender.protect(deltaFrame(), 3), 'video', fresh(), 1000)).result).toBe('ok');
    expect((await receiver.unprotect(old, 'video', fresh(), 1000 + PREVIOUS_EPOCH_GRACE_MS - 1)).result).toBe('ok');
    expect((await receiver.unprotect(old2, 'video', fresh(), 1000 + PREVIOUS_EPOCH_GRACE_MS + 1)).result).toBe('old_epoch');
  });

  test('an unknown sender is no key; a forgotten one too', async () => {
    const { sender, receiver } = await pair();
    const sent = await sender.protect(deltaFrame(), 3);
    expect((await new MediaKeys().unprotect(sent, 'video', fresh(), 0)).result).toBe('no_key');
    receiver.forget(KEY_ID);
    expect((await receiver.unprotect(sent, 'video', fresh(), 0)).result).toBe('no_key');
  });
});
