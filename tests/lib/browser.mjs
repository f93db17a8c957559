// Chromium for browser tests: Debian's /usr/bin/chromium driven by playwright-core, with
// the flags checked in /work/shared/TESTING.md, a throw-away profile, and a recorder of
// everything the pages do on the network and in the console, so that a test can assert
// "nothing but the server was contacted" and "the console stayed clean".
//
// Run browser tests inside tests/browser/netns.sh (CTest does): Chromium's own background
// traffic never reaches a page's request events, so only a loopback-only namespace makes
// "nothing leaves the machine" true rather than merely observed.
//
//   const browser = await launchChromium();
//   const rec = await recordActivity(browser.context);
//   await browser.page.goto(server.url('/'));
//   assert.deepEqual(rec.foreignRequests(server.origin), []);
//   assert.deepEqual(rec.problems(), []);
//   await browser.close();
import { chromium } from 'playwright-core';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import net from 'node:net';

export const CHROMIUM_PATH = process.env.TEST_CHROMIUM ?? '/usr/bin/chromium';

/** Exactly the flags of TESTING.md ("Chromium, loopback only"). */
export const CHROMIUM_ARGS = Object.freeze([
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--use-fake-device-for-media-stream',
  '--use-fake-ui-for-media-stream',
  '--allow-loopback-in-peer-connection',
]);

/**
 * Starts headless Chromium with a fresh profile directory (removed again by close()).
 * Playwright refuses --user-data-dir in `args`; launchPersistentContext(dir) is its
 * supported way to give one, and yields a single browser context.
 *
 * options:
 *   extraArgs       more Chromium flags for one test (e.g. a fake video file)
 *   timeoutMs       default timeout of every Playwright action and wait (5 s)
 *   ...rest         passed to launchPersistentContext: viewport, colorScheme, locale,
 *                   permissions, ... (https://playwright.dev/docs/api/class-browsertype)
 *
 * Returns { context, page, userDataDir, newPage(), close() }. `page` is the tab Chromium
 * opens at start. close() is safe to call twice and after a failed test.
 */
export async function launchChromium({ extraArgs = [], timeoutMs = 5000, ...options } = {}) {
  const userDataDir = mkdtempSync(join(tmpdir(), 'conclave-chromium-'));
  let context;
  try {
    context = await chromium.launchPersistentContext(userDataDir, {
      executablePath: CHROMIUM_PATH,
      headless: true,
      args: [...CHROMIUM_ARGS, ...extraArgs],
      timeout: 30000,
      ...options,
    });
  } catch (e) {
    rmSync(userDataDir, { recursive: true, force: true });
    throw new Error(`could not start Chromium (${CHROMIUM_PATH}): ${e.message}`);
  }
  context.setDefaultTimeout(timeoutMs);
  context.setDefaultNavigationTimeout(Math.max(timeoutMs, 10000));
  const page = context.pages()[0] ?? (await context.newPage());
  let closed;
  return {
    context,
    page,
    userDataDir,
    newPage: () => context.newPage(),
    close() {
      closed ??= (async () => {
        try {
          await context.close();
        } finally {
          rmSync(userDataDir, { recursive: true, force: true });
        }
      })();
      return closed;
    },
  };
}

/**
 * Records, from the moment it is called, what every page of `context` and their workers
 * do: each request (pages, iframes, dedicated and service workers, favicon included),
 * each response status, each failed request, each WebSocket, each console message, each
 * uncaught error, and each Content-Security-Policy violation (from the page's
 * securitypolicyviolation event and from Chromium's console messages). Requests that CSP
 * blocks never reach the network: they show up as violations (some, like images, also
 * as a request that failed with "csp"; a blocked fetch() as no request at all).
 *
 * What it cannot see: traffic of the browser itself (updates, safe browsing, ...), which
 * the flags and the network namespace take care of; CSP violations inside workers are
 * reported by Chromium only as the failed fetch.
 *
 * Resolves to arrays to inspect directly and helpers that give human-readable lists, so
 * that `assert.deepEqual(rec.problems(), [])` prints exactly what went wrong. Call it
 * before the first navigation. `allowConsole`: regexps of console errors/warnings that
 * problems() leaves out (known, reported issues only; say why next to each).
 */
export async function recordActivity(context, { allowConsole = [] } = {}) {
  const rec = {
    /** { url, method, resourceType, navigation, serviceWorker } */
    requests: [],
    /** { url, status } for every response */
    responses: [],
    /** { url, error } */
    failed: [],
    /** WebSocket URLs */
    websockets: [],
    /** { type, text, url } (url: where it was logged) */
    console: [],
    /** uncaught exceptions and unhandled rejections, as strings */
    errors: [],
    /** { directive, blocked, source } from securitypolicyviolation events */
    cspViolations: [],
  };

  context.on('request', (r) =>
    rec.requests.push({
      url: r.url(), // never with the #fragment: that is not sent
      method: r.method(),
      resourceType: r.resourceType(),
      navigation: r.isNavigationRequest(),
      serviceWorker: r.serviceWorker() !== null,
    }),
  );
  context.on('response', (r) => rec.responses.push({ url: r.url(), status: r.status() }));
  context.on('requestfailed', (r) =>
    rec.failed.push({ url: r.url(), error: r.failure()?.errorText ?? 'failed' }),
  );
  context.on('console', (m) =>
    rec.console.push({ type: m.type(), text: m.text(), url: m.location()?.url ?? '' }),
  );
  context.on('weberror', (e) => rec.errors.push(String(e.error()?.stack ?? e.error())));

  const watchPage = (page) => {
    page.on('websocket', (ws) => rec.websockets.push(ws.url()));
  };
  context.pages().forEach(watchPage);
  context.on('page', watchPage);

  // The violation event carries the directive and the blocked URL, which the console text
  // words differently in every browser version. The binding is Playwright's (CDP), so the
  // page's CSP does not apply to it; it takes effect from the next document on.
  await context.exposeBinding('__conclaveTestCspViolation', (_source, v) => rec.cspViolations.push(v));
  await context.addInitScript(() => {
    addEventListener('securitypolicyviolation', (e) =>
      globalThis.__conclaveTestCspViolation?.({
        directive: e.effectiveDirective,
        blocked: e.blockedURI,
        source: e.sourceFile ? `${e.sourceFile}:${e.lineNumber}` : document.URL,
      }),
    );
  });

  const allowed = (m) => allowConsole.some((re) => re.test(m.text));

  return Object.assign(rec, {
    /**
     * Requests whose URL is on another origin than `origin`. blob: URLs count as the
     * origin that made them; data: URLs never touch the network and are not counted.
     * WebSockets are included.
     */
    foreignRequests(origin) {
      const urls = [...rec.requests.map((r) => r.url), ...rec.websockets];
      return urls.filter((u) => !u.startsWith('data:') && originOf(u) !== origin);
    },
    /** Every request URL (and WebSocket URL) that contains `text` anywhere. */
    requestsContaining(text) {
      return [...rec.requests.map((r) => r.url), ...rec.websockets].filter((u) => u.includes(text));
    },
    /** Console errors and warnings (minus the allowed ones), uncaught errors, CSP violations,
     *  failed requests and HTTP error responses, one readable line each. */
    problems() {
      return [
        ...rec.console
          .filter((m) => (m.type === 'error' || m.type === 'warning') && !allowed(m))
          .map((m) => `console ${m.type}: ${m.text}${m.url ? ` (${m.url})` : ''}`),
        ...rec.errors.map((e) => `uncaught: ${e}`),
        ...rec.cspViolations.map((v) => `CSP violation: ${v.directive} blocked ${v.blocked} (${v.source})`),
        ...rec.failed.map((f) => `request failed: ${f.url} (${f.error})`),
        ...rec.responses.filter((r) => r.status >= 400).map((r) => `HTTP ${r.status}: ${r.url}`),
      ];
    },
    /** Console messages (any type) that report a Content Security Policy violation. */
    cspConsoleMessages() {
      return rec.console.filter((m) => /Content[- ]Security[- ]Policy/i.test(m.text)).map((m) => m.text);
    },
    /** Number of document (navigation) requests so far: a full page load adds one. */
    documentLoads() {
      return rec.requests.filter((r) => r.navigation).length;
    },
  });
}

function originOf(url) {
  try {
    return new URL(url).origin; // blob:http://h:p/uuid gives http://h:p
  } catch {
    return `(unparsable) ${url}`;
  }
}

/**
 * A transparent TCP relay in front of a server, keeping every byte that clients send
 * through it: point the browser at tap.origin instead of the server, and tap.sent() is
 * exactly what the server received, so a test can assert that a secret never reached it
 * in any request line, header or body. Plain HTTP/1.1 and WebSocket only (WebSocket frames
 * from browsers are masked, so their payloads are not readable here; TLS would show
 * ciphertext).
 *
 * Returns { origin, url(path), sent(), requests(), close() }:
 *   sent()      everything received, connection by connection, as one latin1 string
 *   requests()  the HTTP requests parsed from it, in order per connection:
 *               { method, target, line, headers: { lowercase-name: [values] }, body }
 *               (a WebSocket upgrade ends the parsing of its connection)
 */
export async function startWireTap(targetOrigin) {
  const target = new URL(targetOrigin);
  const port = Number(target.port || (target.protocol === 'https:' ? 443 : 80));
  const connections = []; // one array of received chunks per client connection
  const sockets = new Set();
  const relay = net.createServer((client) => {
    const chunks = [];
    connections.push(chunks);
    const upstream = net.connect({ host: target.hostname, port });
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on('error', () => {});
      s.on('close', () => {
        sockets.delete(s);
        client.destroy();
        upstream.destroy();
      });
    }
    client.on('data', (d) => chunks.push(Buffer.from(d)));
    client.pipe(upstream);
    upstream.pipe(client);
  });
  await new Promise((resolve, reject) => {
    relay.once('error', reject);
    relay.listen(0, '127.0.0.1', resolve);
  });
  const origin = `${target.protocol}//127.0.0.1:${relay.address().port}`;
  const streams = () => connections.map((chunks) => Buffer.concat(chunks).toString('latin1'));
  return {
    origin,
    url: (path) => origin + path,
    sent: () => streams().join('\n'),
    requests: () => streams().flatMap(parseRequests),
    close() {
      for (const s of sockets) s.destroy();
      return new Promise((resolve) => relay.close(() => resolve()));
    },
  };
}

/** Splits what one client connection sent into HTTP/1.x requests (Content-Length bodies). */
function parseRequests(stream) {
  const out = [];
  let at = 0;
  while (at < stream.length) {
    const end = stream.indexOf('\r\n\r\n', at);
    if (end < 0) break; // an incomplete head: the connection was cut
    const [line, ...fields] = stream.slice(at, end).split('\r\n');
    const headers = {};
    for (const f of fields) {
      const colon = f.indexOf(':');
      const name = f.slice(0, colon).trim().toLowerCase();
      (headers[name] ??= []).push(f.slice(colon + 1).trim());
    }
    const length = Number(headers['content-length']?.[0] ?? 0);
    const body = stream.slice(end + 4, end + 4 + length);
    const [method, target] = line.split(' ');
    out.push({ method, target, line, headers, body });
    at = end + 4 + length;
    if (headers.upgrade || headers['transfer-encoding']) break; // frames or chunks follow
  }
  return out;
}

/** Polls `fn` until it returns a truthy value or `timeoutMs` passes, then throws `what`. */
export async function waitUntil(fn, { timeoutMs = 5000, intervalMs = 50, what = 'condition' } = {}) {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}
