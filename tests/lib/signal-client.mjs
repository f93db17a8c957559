// A signaling client for tests (docs/protocol.md): request() sends one request and resolves
// with its result or rejects with an Error carrying the typed `code`; events are queued so
// a test can wait for the next one of a kind without racing the socket.
import WebSocket from 'ws';

export class SignalClient {
  /**
   * `cookie`: a Cookie header for the upgrade (who is signed in); `headers`: any other
   * headers for the upgrade request.
   */
  static open(origin, { timeoutMs = 5000, cookie, headers = {} } = {}) {
    const url = origin.replace(/^http/, 'ws') + '/ws';
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(url, { origin, headers: { ...headers, ...(cookie ? { Cookie: cookie } : {}) } });
      const timer = setTimeout(() => reject(new Error('no WebSocket handshake')), timeoutMs);
      ws.once('open', () => {
        clearTimeout(timer);
        resolve(new SignalClient(ws));
      });
      ws.once('error', (e) => {
        clearTimeout(timer);
        reject(e);
      });
    });
  }

  constructor(ws) {
    this.ws = ws;
    this.nextId = 1;
    this.pending = new Map();
    this.events = [];
    this.waiters = [];
    this.closed = new Promise((resolve) => ws.once('close', (code, reason) => resolve({ code, reason: reason.toString() })));
    ws.on('message', (data) => {
      const msg = JSON.parse(data.toString());
      if (msg.event) {
        this.events.push(msg);
        this.#wake();
        return;
      }
      const p = this.pending.get(msg.id);
      if (!p) return;
      this.pending.delete(msg.id);
      if (msg.error) p.reject(Object.assign(new Error(msg.error.message), { code: msg.error.code }));
      else p.resolve(msg.result);
    });
  }

  request(type, fields = {}, { timeoutMs = 5000 } = {}) {
    const id = this.nextId++;
    return this.raw({ id, type, ...fields }, id, timeoutMs);
  }

  /** Sends any object (or text) and waits for the reply with `id`. */
  raw(message, id, timeoutMs = 5000) {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new Error(`no reply to request ${id} within ${timeoutMs} ms`));
      }, timeoutMs);
      this.pending.set(id, {
        resolve: (v) => (clearTimeout(timer), resolve(v)),
        reject: (e) => (clearTimeout(timer), reject(e)),
      });
      this.ws.send(typeof message === 'string' ? message : JSON.stringify(message));
    });
  }

  /** Resolves with the first queued (or next) event of `name` matching `filter`, and removes it. */
  next(name, filter = () => true, timeoutMs = 5000) {
    return new Promise((resolve, reject) => {
      const check = () => {
        const i = this.events.findIndex((e) => e.event === name && filter(e));
        if (i < 0) return false;
        resolve(this.events.splice(i, 1)[0]);
        return true;
      };
      if (check()) return;
      const waiter = { check };
      this.waiters.push(waiter);
      setTimeout(() => {
        const k = this.waiters.indexOf(waiter);
        if (k >= 0) {
          this.waiters.splice(k, 1);
          reject(new Error(`no '${name}' event within ${timeoutMs} ms`));
        }
      }, timeoutMs);
    });
  }

  #wake() {
    this.waiters = this.waiters.filter((w) => !w.check());
  }

  close() {
    this.ws.close();
    return this.closed;
  }

  terminate() {
    this.ws.terminate();
    return this.closed;
  }
}

/** Expects `promise` to reject with the typed error `code`. */
export async function expectError(promise, code) {
  try {
    const result = await promise;
    throw new Error(`expected error ${code}, got result ${JSON.stringify(result)}`);
  } catch (e) {
    if (e.code !== code) throw new Error(`expected error ${code}, got ${e.code ?? 'none'}: ${e.message}`);
    return e;
  }
}
