// What the main thread and the encoded-transform worker (worker.ts) say to each other.
import type { Bytes } from './keys';
import type { FrameResult } from './media';

export interface TransformOptions {
  side: 'send' | 'receive';
  kind: 'audio' | 'video';
  /** Names the transform in status and counts: the transceiver's mid and side. */
  id: string;
}

export type ToWorker =
  | { type: 'send-key'; keyId: number; epoch: number; base: Bytes }
  | { type: 'receive-key'; keyId: number; epoch: number; base: Bytes }
  | { type: 'forget'; keyId: number }
  | { type: 'streams'; readable: ReadableStream; writable: WritableStream; options: TransformOptions };

export type FrameCounts = Record<FrameResult | 'sent', number>;

export type FromWorker =
  | { type: 'status'; id: string; status: FrameResult; keyId: number | null }
  | { type: 'counts'; counts: Record<string, FrameCounts> };
