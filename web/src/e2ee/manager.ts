// End-to-end encryption of one meeting session, on the main thread (docs/e2ee.md): our
// session key and hello, the key holders (participants in our roster whose hello
// verified), the pairwise channels to them, our sender key (ratcheted when someone joins,
// replaced when someone leaves) and theirs, sealing and opening every relayed message,
// and the security code. Media frames are encrypted in the worker (worker.ts), which gets
// every key from here.
//
// Relay messages are handled strictly in arrival order (one queue), because a key message
// must be applied before the content sealed under it. Content under a key we do not have
// yet waits (bounded) until the key arrives.
import { deviceIdentity, fingerprint, pinKey, pinnedKeys } from './identity';
import { b64url, kidOf, newKeyId, newSession, pairwiseKey, randomBytes, ratchet, securityCode, splitKid, type Bytes, type IdentityKeys, type SessionKeys } from './keys';
import {
  dmMessage,
  helloMessage,
  keyMessage,
  keyPlaintext,
  kindOf,
  msgKid,
  openEntry,
  openHello,
  openMsg,
  parseKeyPlaintext,
  sealEntry,
  msgMessage,
} from './protocol';
import type { FrameResult } from './media';
import type { FrameCounts, FromWorker, ToWorker, TransformOptions } from './worker-messages';

/** How a browser can run our encoded transforms, or null if it cannot at all. */
export type TransformApi = 'script' | 'streams';

export function transformApi(): TransformApi | null {
  if (typeof Worker === 'undefined' || !globalThis.crypto?.subtle) return null;
  if ('RTCRtpScriptTransform' in globalThis) return 'script';
  if (typeof RTCRtpSender !== 'undefined' && 'createEncodedStreams' in RTCRtpSender.prototype) return 'streams';
  return null;
}

/** How far we trust a key holder's identity key (docs/e2ee.md, "Trust on first use"):
 *  'guest' not signed in (compare the security code); 'first' a signed-in person met for
 *  the first time with this key, now pinned; 'pinned' the key we pinned before; 'changed'
 *  a signed-in person we know, with a key we never saw: say so loudly. */
export type Trust = 'guest' | 'first' | 'pinned' | 'changed';

export interface KeyHolder {
  id: string;
  fingerprint: string;
  /** The epoch of their key we hold (null: none yet). */
  epoch: number | null;
  trust: Trust;
  /** Signed in, and the key is among the devices their account published. */
  registered: boolean;
}

/** What the UI shows of E2EE. */
export interface E2eeView {
  /** 'on': encrypting; 'starting': keys being made; 'off': the meeting is not E2EE. */
  mode: 'on' | 'starting' | 'off';
  /** The security code; null until it can be computed. */
  code: string | null;
  myFingerprint: string | null;
  myEpoch: number;
  /** The key id our frames name in their SFrame KIDs (public: every frame carries it). */
  myKeyId: number | null;
  /** Everyone we gave our key to (their hello verified), in roster order. */
  holders: readonly KeyHolder[];
  /** Decryption state of each received track, by transform id (`r:<mid>`). */
  tracks: Readonly<Record<string, FrameResult>>;
  counts: Readonly<Record<string, FrameCounts>>;
}

export const E2EE_OFF: E2eeView = { mode: 'off', code: null, myFingerprint: null, myEpoch: 0, myKeyId: null, holders: [], tracks: {}, counts: {} };

export interface E2eeHooks {
  /** Sends a relay (`to` null: everyone). */
  send(to: string | null, data: unknown): Promise<void>;
  /** Sends each named participant its own blob, in one relay request. */
  sendEach(each: Record<string, unknown>): Promise<void>;
  /** Whether a participant is in our roster now (nobody else ever gets a key). */
  inRoster(id: string): boolean;
  /** A signed-in participant's account and published device keys (base64url). */
  accountOf(id: string): { account: number; deviceKeys: readonly string[] } | null;
  /** Content opened from a msg or dm, in order. */
  deliver(from: string, data: unknown): void;
  changed(view: E2eeView): void;
}

interface Holder {
  id: string;
  identity: Bytes;
  session: Bytes;
  keyId: number;
  pairwise: Bytes;
  fingerprint: string;
  trust: Trust;
  registered: boolean;
  account: number | null;
  /** Their sender keys we hold, by epoch (the newest few). */
  keys: Map<number, Bytes>;
  newest: number | null;
}

/** How long our old media key stays in use after a fresh one was sent (a leave), so that
 *  the others have it before frames under it arrive. */
const REKEY_SWITCH_MS = 500;
const PENDING_MAX = 200;
const PENDING_MS = 30_000;
const MAX_AHEAD = 8;
const HOLDER_WAIT_MS = 10_000;
/** How long a newcomer gathers hellos before sending its key to all of them at once. */
const KEY_BATCH_MS = 50;
/** One fan-out relay's payload at most (the server's limit is 16 KiB). */
const FANOUT_BYTES = 15_000;

export class E2eeManager {
  private identity!: IdentityKeys;
  private session!: SessionKeys;
  private keyId = 0;
  private epoch = 0;
  private base: Bytes = new Uint8Array(16);
  private readonly holders = new Map<string, Holder>();
  /** Hellos from ids not (yet) in our roster: applied if they appear. */
  private readonly unknownHellos = new Map<string, unknown>();
  private readonly pending: { from: string; data: unknown; at: number }[] = [];
  private readonly holderWaiters = new Map<string, ((h: Holder | null) => void)[]>();
  private queue: Promise<void> = Promise.resolve();
  private worker: Worker | null = null;
  private rekeyTimer: ReturnType<typeof setTimeout> | null = null;
  private readonly keyBatch = new Set<string>();
  private keyBatchTimer: ReturnType<typeof setTimeout> | null = null;
  private stopped = false;
  private view: E2eeView = { ...E2EE_OFF, mode: 'starting' };

  constructor(
    private readonly meeting: string,
    readonly self: string,
    /** Who was in the meeting when we joined: we do not ratchet for them. */
    private readonly older: ReadonlySet<string>,
    private readonly api: TransformApi,
    private readonly hooks: E2eeHooks,
  ) {
    // Made now, so that transforms can be attached before the keys are ready (the worker
    // sends nothing until it has our key).
    this.worker = new Worker(new URL('./worker.ts', import.meta.url), { type: 'module', name: 'conclave-e2ee' });
    this.worker.onmessage = (ev: MessageEvent<FromWorker>) => this.onWorker(ev.data);
  }

  getView(): E2eeView {
    return this.view;
  }

  private setView(patch: Partial<E2eeView>): void {
    this.view = { ...this.view, ...patch };
    this.hooks.changed(this.view);
  }

  /** Makes our keys, starts the worker and says hello to everyone. */
  start(): Promise<void> {
    return this.enqueue(async () => {
      this.identity = await deviceIdentity();
      this.session = await newSession();
      this.keyId = newKeyId();
      this.base = randomBytes(16);
      this.epoch = 0;
      this.toWorker({ type: 'send-key', keyId: this.keyId, epoch: 0, base: this.base });
      this.setView({ mode: 'on', myFingerprint: await fingerprint(this.identity.publicKey), myEpoch: 0, myKeyId: this.keyId });
      await this.refreshCode();
      await this.hooks.send(null, await this.hello(false));
    });
  }

  /** Back after a short disconnection (the server kept us): relays may have been lost, so
   *  everyone is asked for their current key and given ours again. */
  resync(): Promise<void> {
    return this.enqueue(async () => {
      await this.hooks.send(null, await this.hello(false));
      await this.sendKeyToAll();
    });
  }

  stop(): void {
    this.stopped = true;
    if (this.rekeyTimer) clearTimeout(this.rekeyTimer);
    if (this.keyBatchTimer) clearTimeout(this.keyBatchTimer);
    this.worker?.terminate();
    this.worker = null;
    this.holders.clear();
    this.pending.length = 0;
    for (const list of this.holderWaiters.values()) for (const w of list) w(null);
    this.holderWaiters.clear();
  }

  private enqueue(task: () => Promise<void>): Promise<void> {
    const run = this.queue.then(() => (this.stopped ? undefined : task()));
    this.queue = run.catch(() => {});
    return run;
  }

  private toWorker(m: ToWorker, transfer: Transferable[] = []): void {
    this.worker?.postMessage(m, transfer);
  }

  private onWorker(m: FromWorker): void {
    if (m.type === 'status') this.setView({ tracks: { ...this.view.tracks, [m.id]: m.status } });
    else this.setView({ counts: m.counts });
  }

  // ------------------------------------------------------------------ transforms

  /** Encrypts everything `sender` sends. */
  attachSender(sender: RTCRtpSender, kind: 'audio' | 'video', mid: string | null): void {
    this.attach(sender, { side: 'send', kind, id: `s:${kind}:${mid ?? 'new'}` });
  }

  /** Decrypts everything `receiver` gets; its state is reported as `r:<mid>`. */
  attachReceiver(receiver: RTCRtpReceiver, kind: 'audio' | 'video', mid: string): void {
    this.attach(receiver, { side: 'receive', kind, id: `r:${mid}` });
  }

  private attach(end: RTCRtpSender | RTCRtpReceiver, options: TransformOptions): void {
    if (!this.worker) return;
    if (this.api === 'script') {
      (end as unknown as { transform: unknown }).transform = new RTCRtpScriptTransform(this.worker, options);
      return;
    }
    const s = (end as unknown as { createEncodedStreams(): { readable: ReadableStream; writable: WritableStream } }).createEncodedStreams();
    this.toWorker({ type: 'streams', readable: s.readable, writable: s.writable, options }, [s.readable, s.writable] as unknown as Transferable[]);
  }

  // ------------------------------------------------------------------ relay

  /** Seals content for the relay: everyone (`to` null) under our message key, one person
   *  on the pairwise channel. Throws if that person holds no key yet. */
  async seal(to: string | null, data: unknown): Promise<unknown> {
    await this.queue; // keys change only between messages
    const plain = new TextEncoder().encode(JSON.stringify(data));
    if (to === null) return msgMessage(this.base, this.self, this.meeting, this.keyId, this.epoch, plain);
    const h = this.holders.get(to) ?? (await this.holderSoon(to));
    if (!h) throw new Error('no encryption key for that participant yet');
    return dmMessage(await sealEntry(h.pairwise, this.self, to, this.meeting, plain));
  }

  /** The key holder `id` once its hello has come (a newcomer's may still be on its way). */
  private holderSoon(id: string): Promise<Holder | null> {
    if (!this.hooks.inRoster(id)) return Promise.resolve(null);
    return new Promise((resolve) => {
      const list = this.holderWaiters.get(id) ?? [];
      const timer = setTimeout(() => {
        const l = this.holderWaiters.get(id);
        if (l) this.holderWaiters.set(id, l.filter((w) => w !== done));
        resolve(null);
      }, HOLDER_WAIT_MS);
      const done = (h: Holder | null) => {
        clearTimeout(timer);
        resolve(h);
      };
      list.push(done);
      this.holderWaiters.set(id, list);
    });
  }

  /** A relay arrived. Everything is handled here: protocol messages change keys, content
   *  is opened and delivered (maybe later), and anything else is dropped: in an E2EE
   *  meeting nothing readable may pass, since only the server could have written it. */
  onRelay(from: string, data: unknown): void {
    void this.enqueue(() => this.handle(from, data));
  }

  private async handle(from: string, data: unknown): Promise<void> {
    switch (kindOf(data)) {
      case 'hello':
        return this.onHello(from, data);
      case 'key':
        return this.onKey(from, data);
      case 'msg':
        // Not (yet) readable: their hello or key may still be on its way.
        if ((await this.onMsg(from, data)) === 'wait' && this.pending.length < PENDING_MAX) {
          this.pending.push({ from, data, at: Date.now() });
        }
        return;
      case 'dm': {
        const h = this.holders.get(from);
        const plain = h && (await openEntry(data, h.pairwise, from, this.self, this.meeting));
        if (plain) this.deliverText(from, plain);
        return;
      }
      default:
        return; // not ours to read
    }
  }

  private deliverText(from: string, plain: Bytes): void {
    try {
      this.hooks.deliver(from, JSON.parse(new TextDecoder().decode(plain)));
    } catch {
      // Not JSON: nothing a client of ours sends.
    }
  }

  private async hello(reply: boolean) {
    const m = await helloMessage(this.meeting, this.self, this.identity, this.session.publicKey, this.keyId);
    return reply ? { ...m, reply: true } : m;
  }

  private async onHello(from: string, data: unknown): Promise<void> {
    if (from === this.self) return;
    if (!this.hooks.inRoster(from)) {
      // Not (yet) someone we can see: no key for them. Kept in case they appear.
      if (this.unknownHellos.size < PENDING_MAX) this.unknownHellos.set(from, data);
      return;
    }
    const hello = await openHello(data, this.meeting, from);
    if (!hello) return;
    const reply = (data as { reply?: unknown }).reply === true;
    const known = this.holders.get(from);
    if (known && equal(known.session, hello.session) && equal(known.identity, hello.identity) && known.keyId === hello.keyId) {
      // Asking again (they resynced): our key once more, and our hello if they asked.
      if (!reply) await this.hooks.send(from, await this.hello(true));
      await this.sendKey(known);
      return;
    }
    const pairwise = await pairwiseKey(this.meeting, this.session, this.identity.publicKey, hello.session, hello.identity);
    if (!pairwise) return;
    const holder: Holder = {
      id: from,
      identity: hello.identity,
      session: hello.session,
      keyId: hello.keyId,
      pairwise,
      fingerprint: await fingerprint(hello.identity),
      ...(await this.trustOf(from, hello.identity)),
      keys: new Map(),
      newest: null,
    };
    if (known) this.toWorker({ type: 'forget', keyId: known.keyId });
    this.holders.set(from, holder);
    if (!reply) await this.hooks.send(from, await this.hello(true));
    if (!this.older.has(from)) {
      // A newcomer: our key moves on first, so that it cannot read what came before. (A
      // fresh key still waiting to be switched to is superseded by this one.)
      if (this.rekeyTimer) clearTimeout(this.rekeyTimer);
      this.rekeyTimer = null;
      this.base = await ratchet(this.base);
      this.epoch = (this.epoch + 1) & 0xffff;
      this.toWorker({ type: 'send-key', keyId: this.keyId, epoch: this.epoch, base: this.base });
      await this.sendKey(holder);
    } else {
      // We are the newcomer: the hellos of everyone present arrive together, and our key
      // goes to them in as few fan-out requests as possible (the server counts requests).
      this.keyBatch.add(from);
      if (!this.keyBatchTimer) {
        this.keyBatchTimer = setTimeout(() => {
          this.keyBatchTimer = null;
          void this.enqueue(() => this.flushKeyBatch());
        }, KEY_BATCH_MS);
      }
    }
    for (const w of this.holderWaiters.get(from) ?? []) w(holder);
    this.holderWaiters.delete(from);
    this.holdersChanged();
    await this.refreshCode();
    await this.retryPending();
  }

  private async trustOf(id: string, identity: Bytes): Promise<{ trust: Trust; registered: boolean; account: number | null }> {
    const who = this.hooks.accountOf(id);
    if (!who) return { trust: 'guest', registered: false, account: null };
    const key = b64url(identity);
    const registered = who.deviceKeys.includes(key);
    const pins = await pinnedKeys(who.account);
    if (pins.includes(key)) return { trust: 'pinned', registered, account: who.account };
    if (pins.length === 0) {
      await pinKey(who.account, key);
      return { trust: 'first', registered, account: who.account };
    }
    return { trust: 'changed', registered, account: who.account };
  }

  /** The person checked (compared the security code): their new key is pinned. */
  acceptKey(id: string): Promise<void> {
    return this.enqueue(async () => {
      const h = this.holders.get(id);
      if (!h || h.account === null) return;
      await pinKey(h.account, b64url(h.identity));
      h.trust = 'pinned';
      this.holdersChanged();
    });
  }

  /** Our identity key as published for an account (base64url). */
  async identityKey(): Promise<string> {
    return b64url((await deviceIdentity()).publicKey);
  }

  private async entryFor(h: Holder): Promise<import('./protocol').Entry> {
    return sealEntry(h.pairwise, this.self, h.id, this.meeting, keyPlaintext({ keyId: this.keyId, epoch: this.epoch, base: this.base }));
  }

  private async sendKey(h: Holder): Promise<void> {
    await this.hooks.send(h.id, keyMessage(await this.entryFor(h)));
  }

  private async flushKeyBatch(): Promise<void> {
    const ids = [...this.keyBatch];
    this.keyBatch.clear();
    await this.sendKeyTo(ids.map((id) => this.holders.get(id)).filter((h): h is Holder => h !== undefined));
  }

  /** Our key to every holder, each sealed for its recipient, in fan-out relays. */
  private sendKeyToAll(): Promise<void> {
    return this.sendKeyTo([...this.holders.values()]);
  }

  /** Our current key to `holders`, each sealed for its recipient, in fan-out relays of at
   *  most FANOUT_BYTES each (the server takes 16 KiB per request). */
  private async sendKeyTo(holders: Holder[]): Promise<void> {
    let each: Record<string, unknown> = {};
    let size = 0;
    for (const h of holders) {
      const m = keyMessage(await this.entryFor(h));
      const bytes = JSON.stringify(m).length + h.id.length + 4;
      if (size + bytes > FANOUT_BYTES && size > 0) {
        await this.hooks.sendEach(each);
        each = {};
        size = 0;
      }
      each[h.id] = m;
      size += bytes;
    }
    if (size > 0) await this.hooks.sendEach(each);
  }

  private async onKey(from: string, entry: unknown): Promise<void> {
    const h = this.holders.get(from);
    if (!h) return;
    const plain = await openEntry(entry, h.pairwise, from, this.self, this.meeting);
    const k = plain && parseKeyPlaintext(plain);
    // A sender may only give its own key.
    if (!k || k.keyId !== h.keyId) return;
    this.remember(h, k.epoch, k.base);
    this.toWorker({ type: 'receive-key', keyId: k.keyId, epoch: k.epoch, base: k.base });
    this.holdersChanged();
    await this.retryPending();
  }

  private remember(h: Holder, epoch: number, base: Bytes): void {
    h.keys.set(epoch, base);
    if (h.newest === null || ((epoch - h.newest) & 0xffff) < 0x8000) h.newest = epoch;
    while (h.keys.size > 4) h.keys.delete(h.keys.keys().next().value!);
  }

  private async keyFor(h: Holder, epoch: number): Promise<Bytes | null> {
    const exact = h.keys.get(epoch);
    if (exact) return exact;
    if (h.newest === null) return null;
    const steps = (epoch - h.newest) & 0xffff;
    if (steps === 0 || steps > MAX_AHEAD) return null;
    let base = h.keys.get(h.newest)!;
    for (let i = 0; i < steps; i++) base = await ratchet(base);
    return base;
  }

  /** Opens and delivers a msg: 'done' (delivered, or refused under a key we hold), or
   *  'wait' (no key for it yet). */
  private async onMsg(from: string, data: unknown): Promise<'done' | 'wait'> {
    const h = this.holders.get(from);
    const kid = msgKid(data);
    if (kid === null) return 'done';
    const { keyId, epoch } = splitKid(kid);
    const base = h && h.keyId === keyId ? await this.keyFor(h, epoch) : null;
    if (!base) return 'wait';
    const plain = await openMsg(data, base, from, this.meeting);
    if (plain) this.deliverText(from, plain);
    return 'done';
  }

  private async retryPending(): Promise<void> {
    const now = Date.now();
    const waiting = this.pending.splice(0).filter((p) => now - p.at < PENDING_MS);
    for (const p of waiting) {
      if ((await this.onMsg(p.from, p.data)) === 'wait') this.pending.push(p);
    }
  }

  // ------------------------------------------------------------------ roster

  /** Someone appeared in our roster: a hello they sent before that counts now. */
  participantJoined(id: string): void {
    const hello = this.unknownHellos.get(id);
    if (hello === undefined) return;
    this.unknownHellos.delete(id);
    void this.enqueue(() => this.onHello(id, hello));
  }

  /** Someone left or was removed: they must not read anything from now on, so our key is
   *  replaced by a fresh one that only the remaining holders get. */
  participantLeft(id: string): void {
    this.unknownHellos.delete(id);
    void this.enqueue(async () => {
      const h = this.holders.get(id);
      if (!h) return;
      this.holders.delete(id);
      this.holdersChanged();
      await this.refreshCode();
      this.base = randomBytes(16);
      this.epoch = (this.epoch + 1) & 0xffff;
      const switchTo = { keyId: this.keyId, epoch: this.epoch, base: this.base };
      await this.sendKeyToAll();
      // Media switches a moment later, once the others have the key; content (msg) uses
      // it at once, since it travels the same ordered relay as the key.
      if (this.rekeyTimer) clearTimeout(this.rekeyTimer);
      this.rekeyTimer = setTimeout(() => {
        this.rekeyTimer = null;
        this.toWorker({ type: 'send-key', ...switchTo });
      }, REKEY_SWITCH_MS);
      this.toWorker({ type: 'forget', keyId: h.keyId });
    });
  }

  private holdersChanged(): void {
    const holders: KeyHolder[] = [...this.holders.values()].map((h) => ({
      id: h.id,
      fingerprint: h.fingerprint,
      epoch: h.newest,
      trust: h.trust,
      registered: h.registered,
    }));
    this.setView({ holders, myEpoch: this.epoch });
  }

  private async refreshCode(): Promise<void> {
    const ids = [this.identity.publicKey, ...[...this.holders.values()].map((h) => h.identity)];
    this.setView({ code: await securityCode(this.meeting, ids), myEpoch: this.epoch });
  }

  /** The KID our media carries now (tests and diagnostics). */
  get currentKid(): number {
    return kidOf(this.keyId, this.epoch);
  }
}

function equal(a: Bytes, b: Bytes): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}
