/// <reference lib="webworker" />
// The encoded-transform worker (docs/e2ee.md, "Frames"): every encoded audio and video
// frame we send passes through here and leaves as `clear prefix || SFrame`; every frame we
// receive is checked and decrypted here, or dropped and counted. The keys live only in
// this worker and in the E2EE manager on the main thread that sends them here.
//
// Transforms arrive either as RTCRtpScriptTransform (the `rtctransform` event) or, in a
// browser with only Chromium's older API, as streams posted by the main thread.
import { MediaKeys, SenderState, vp8ClearPrefix, type FrameResult, type ReplayWindows } from './media';
import type { ToWorker, FromWorker, TransformOptions, FrameCounts } from './worker-messages';

declare const self: DedicatedWorkerGlobalScope & { onrtctransform: ((ev: Event & { transformer: Transformer }) => void) | null };

interface Transformer {
  readable: ReadableStream<EncodedFrame>;
  writable: WritableStream<EncodedFrame>;
  options: TransformOptions;
}
interface EncodedFrame {
  data: ArrayBuffer;
  type?: 'key' | 'delta' | 'empty';
  getMetadata?: () => { mimeType?: string };
}

let sender: SenderState | null = null;
const keys = new MediaKeys();
const counts = new Map<string, FrameCounts>();
const lastStatus = new Map<string, FrameResult>();
let countsDirty = false;

const post = (m: FromWorker) => self.postMessage(m);

function prefixLength(kind: 'audio' | 'video', frame: EncodedFrame, data: Uint8Array): number {
  if (kind !== 'video') return 0;
  const mime = frame.getMetadata?.().mimeType;
  // The SFU reads VP8's payload header; other video codecs keep nothing in the clear.
  return mime && mime.toLowerCase() !== 'video/vp8' ? 0 : vp8ClearPrefix(data);
}

function countOf(id: string): FrameCounts {
  let c = counts.get(id);
  if (!c) counts.set(id, (c = { ok: 0, no_key: 0, authentication: 0, replay: 0, old_epoch: 0, malformed: 0, sent: 0 }));
  return c;
}

function run(t: Transformer): void {
  const { side, kind, id } = t.options;
  const replay: ReplayWindows = new Map();
  const stream = new TransformStream<EncodedFrame, EncodedFrame>({
    async transform(frame, out) {
      const data = new Uint8Array(frame.data);
      if (side === 'send') {
        if (!sender || data.length === 0) return; // no key yet: send nothing rather than clear
        frame.data = (await sender.protect(data, prefixLength(kind, frame, data))).buffer as ArrayBuffer;
        countOf(id).sent++;
        countsDirty = true;
        out.enqueue(frame);
        return;
      }
      if (data.length === 0) return;
      const r = await keys.unprotect(data, kind, replay, performance.now());
      countOf(id)[r.result]++;
      countsDirty = true;
      if (lastStatus.get(id) !== r.result && (r.result === 'ok' || r.result === 'no_key' || r.result === 'authentication')) {
        lastStatus.set(id, r.result);
        post({ type: 'status', id, status: r.result, keyId: r.keyId ?? null });
      }
      if (r.result !== 'ok') return;
      frame.data = r.frame!.buffer as ArrayBuffer;
      out.enqueue(frame);
    },
  });
  t.readable
    .pipeThrough(stream)
    .pipeTo(t.writable)
    .catch(() => {});
}

self.onrtctransform = (ev) => run(ev.transformer);

self.onmessage = async (ev: MessageEvent<ToWorker>) => {
  const m = ev.data;
  switch (m.type) {
    case 'send-key':
      if (sender && sender.keyId === m.keyId) await sender.replace(m.base, m.epoch);
      else sender = await SenderState.create(m.keyId, m.base, m.epoch);
      break;
    case 'receive-key':
      await keys.set(m.keyId, m.epoch, m.base);
      break;
    case 'forget':
      keys.forget(m.keyId);
      break;
    case 'streams':
      run({ readable: m.readable, writable: m.writable, options: m.options });
      break;
  }
};

setInterval(() => {
  if (!countsDirty) return;
  countsDirty = false;
  post({ type: 'counts', counts: Object.fromEntries(counts) });
}, 500);
