// The signaling client: one WebSocket to this page's own origin (`/ws`), requests with ids
// and exactly one reply each, and server events by name (docs/protocol.md, "Framing").
// It does not reconnect by itself: the meeting session decides whether and how to come
// back (with its reconnect token), so this class stays a plain transport.
import type { ErrorCode, RequestType, Requests, ServerEvents } from './protocol';

export const REQUEST_TIMEOUT_MS = 15_000;

/** A typed refusal from the server ({error: {code, message}}), or a client-side failure
 *  (`timeout`, `not_connected`, `disconnected`). */
export class SignalingError extends Error {
  readonly code: ErrorCode | (string & {});
  /** Seconds to wait before trying again (too_many_attempts), else 0. */
  readonly retryAfter: number;
  constructor(code: string, message: string, retryAfter = 0) {
    super(message || code);
    this.name = 'SignalingError';
    this.code = code;
    this.retryAfter = retryAfter;
  }
}

export interface Disconnected {
  /** The WebSocket close code (1000 after `leave`, 1006 when the connection just died,
   *  4001 when another connection took this participant over, ...). */
  code: number;
  reason: string;
}

/** Events a handler can listen to: every server event, plus the client's own
 *  `disconnected` (the socket closed, for whatever reason, after it had opened). */
export type SignalingEvents = ServerEvents & { disconnected: Disconnected };
export type SignalingEventName = keyof SignalingEvents;

type Handler<K extends SignalingEventName> = (msg: SignalingEvents[K]) => void;

interface Pending {
  resolve: (result: unknown) => void;
  reject: (e: Error) => void;
  timer: ReturnType<typeof setTimeout>;
}

/** ws://host/ws or wss://host/ws for the page at `loc`. Never anything but the page's own
 *  host: the server refuses other origins, and the fragment stays out of it. */
export function signalingUrl(loc: Pick<Location, 'protocol' | 'host'> = location): string {
  return `${loc.protocol === 'https:' ? 'wss' : 'ws'}://${loc.host}/ws`;
}

export class SignalingClient {
  private ws: WebSocket | null = null;
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  private readonly handlers = new Map<string, Set<(msg: never) => void>>();
  private closedByUs = false;

  constructor(
    private readonly url: string = signalingUrl(),
    private readonly timeoutMs: number = REQUEST_TIMEOUT_MS,
  ) {}

  get connected(): boolean {
    return this.ws?.readyState === WebSocket.OPEN;
  }

  /** Opens the socket; resolves once it is open, rejects (code `not_connected`) if it
   *  closes or fails first. Call once per instance. */
  connect(): Promise<void> {
    if (this.ws) return Promise.reject(new Error('SignalingClient.connect called twice'));
    return new Promise((resolve, reject) => {
      let opened = false;
      const ws = new WebSocket(this.url);
      this.ws = ws;
      ws.onopen = () => {
        opened = true;
        if (this.closedByUs) {
          ws.close(1000);
          reject(new SignalingError('not_connected', 'closed before it opened'));
          return;
        }
        resolve();
      };
      ws.onmessage = (e) => this.onMessage(e.data);
      ws.onclose = (e) => {
        this.failPending('disconnected', 'the connection to the server closed');
        this.ws = null;
        if (!opened) {
          reject(new SignalingError('not_connected', `could not connect (close code ${e.code})`));
          return;
        }
        this.emit('disconnected', { code: e.code, reason: e.reason });
      };
      // An error is always followed by close, which does the work.
      ws.onerror = () => {};
    });
  }

  /** Sends a request; resolves with its result, rejects with a SignalingError for an
   *  `{error}` reply, after the timeout, or when the socket closes first. */
  request<K extends RequestType>(
    type: K,
    fields: Requests[K]['fields'] = {} as Requests[K]['fields'],
  ): Promise<Requests[K]['result']> {
    const ws = this.ws;
    if (!ws || ws.readyState !== WebSocket.OPEN) {
      return Promise.reject(new SignalingError('not_connected', `cannot send ${type}: not connected`));
    }
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new SignalingError('timeout', `no reply to ${type} within ${this.timeoutMs / 1000} s`));
      }, this.timeoutMs);
      this.pending.set(id, { resolve: resolve as (r: unknown) => void, reject, timer });
      try {
        ws.send(JSON.stringify({ ...fields, id, type }));
      } catch (e) {
        clearTimeout(timer);
        this.pending.delete(id);
        reject(new SignalingError('not_connected', String(e)));
      }
    });
  }

  /** Listens to a server event (or `disconnected`); returns the function that stops it. */
  on<K extends SignalingEventName>(event: K, handler: Handler<K>): () => void {
    let set = this.handlers.get(event);
    if (!set) this.handlers.set(event, (set = new Set()));
    set.add(handler as (msg: never) => void);
    return () => set.delete(handler as (msg: never) => void);
  }

  /** Closes the socket. `disconnected` is still emitted (with this code) if it was open;
   *  pending requests reject with `disconnected`. */
  close(code = 1000, reason = ''): void {
    this.closedByUs = true;
    const ws = this.ws;
    if (ws && ws.readyState === WebSocket.OPEN) ws.close(code, reason);
  }

  private onMessage(data: unknown): void {
    if (typeof data !== 'string') return;
    let msg: unknown;
    try {
      msg = JSON.parse(data);
    } catch {
      return;
    }
    if (typeof msg !== 'object' || msg === null) return;
    const m = msg as { id?: unknown; result?: unknown; error?: unknown; event?: unknown };
    if (typeof m.event === 'string') {
      this.emit(m.event as SignalingEventName, msg as never);
      return;
    }
    if (typeof m.id !== 'number') return; // we only ever send integer ids
    const p = this.pending.get(m.id);
    if (!p) return; // timed out already
    this.pending.delete(m.id);
    clearTimeout(p.timer);
    if (m.error !== undefined) {
      const err = (typeof m.error === 'object' && m.error !== null ? m.error : {}) as {
        code?: unknown;
        message?: unknown;
        retry_after?: unknown;
      };
      p.reject(
        new SignalingError(
          typeof err.code === 'string' ? err.code : 'internal',
          typeof err.message === 'string' ? err.message : '',
          typeof err.retry_after === 'number' && err.retry_after > 0 ? Math.ceil(err.retry_after) : 0,
        ),
      );
    } else {
      p.resolve(m.result ?? {});
    }
  }

  private emit<K extends SignalingEventName>(event: K, msg: SignalingEvents[K]): void {
    const set = this.handlers.get(event);
    if (!set) return;
    for (const h of [...set]) {
      try {
        (h as Handler<K>)(msg);
      } catch (e) {
        // A bug in one handler must not stop the others or the socket's reader.
        setTimeout(() => {
          throw e;
        });
      }
    }
  }

  private failPending(code: string, message: string): void {
    for (const [id, p] of this.pending) {
      clearTimeout(p.timer);
      p.reject(new SignalingError(code, message));
      this.pending.delete(id);
    }
  }
}
