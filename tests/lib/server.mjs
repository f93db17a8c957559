// Starts the real conclave binary for a test: a fresh data directory, port 0 (the server
// picks a free one and says which in its "listening on" line), and an environment with no
// CONCLAVE_* variables but the ones the test gives. Everything stays on loopback.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const BIN = process.env.TEST_CONCLAVE_BIN;
if (!BIN) throw new Error('TEST_CONCLAVE_BIN must name build/conclave (set by CTest)');

/** The server with a malicious operator's hooks (tests/tools/test_hooks.cpp): pass as
 *  startServer({ bin: TEST_SERVER_BIN, env: { TESTHOOK_… } }). */
export const TEST_SERVER_BIN = process.env.TEST_CONCLAVE_TEST_SERVER_BIN;

export function tempDir(prefix = 'conclave-test-') {
  return mkdtempSync(join(tmpdir(), prefix));
}

export function cleanEnv(extra = {}) {
  const env = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (!k.startsWith('CONCLAVE_') && !k.startsWith('TEST_')) env[k] = v;
  }
  return { ...env, ...extra };
}

/** Runs the binary to completion (for --help, config print, startup errors). */
export function runOnce(args, { env = {}, timeoutMs = 10000 } = {}) {
  return new Promise((resolve, reject) => {
    const child = spawn(BIN, args, { env: cleanEnv(env), stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`conclave ${args.join(' ')} did not exit within ${timeoutMs} ms`));
    }, timeoutMs);
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
  });
}

/**
 * Starts a server and resolves once it listens. Returns { url, port, origin, dataDir,
 * child, logs(), exited, stop(signal) }. `exited` resolves to { code, signal, ms } where
 * ms counts from the last stop() call.
 */
export async function startServer({ args = [], env = {}, dataDir, scheme = 'http', bin = BIN } = {}) {
  const dir = dataDir ?? tempDir();
  const ownsDir = dataDir === undefined;
  // Port 0 for media too, so that tests running side by side never collide.
  // TEST_WEB_ROOT serves another build of the client (a work in progress) than build/web.
  const web = process.env.TEST_WEB_ROOT ? ['--http-web-root', process.env.TEST_WEB_ROOT] : [];
  const child = spawn(bin, ['--http-port', '0', '--rtc-port', '0', '--data-dir', dir, ...web, ...args], {
    env: cleanEnv(env),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let logs = '';
  child.stdout.on('data', (d) => (logs += d));
  child.stderr.on('data', (d) => (logs += d));
  let stoppedAt = Date.now();
  const exited = new Promise((resolve) =>
    child.on('exit', (code, signal) => {
      if (ownsDir) rmSync(dir, { recursive: true, force: true });
      resolve({ code, signal, ms: Date.now() - stoppedAt });
    }),
  );
  const port = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`server did not start:\n${logs}`)), 10000);
    const look = () => {
      const m = /listening on https?:\/\/[^ ]*:(\d+) /.exec(logs);
      if (m) {
        clearTimeout(timer);
        resolve(Number(m[1]));
      }
    };
    child.stderr.on('data', look);
    child.on('exit', () => {
      clearTimeout(timer);
      reject(new Error(`server exited before listening:\n${logs}`));
    });
  });
  const origin = `${scheme}://127.0.0.1:${port}`;
  return {
    port,
    origin,
    url: (path) => origin + path,
    dataDir: dir,
    child,
    logs: () => logs,
    exited,
    stop(signal = 'SIGTERM') {
      stoppedAt = Date.now();
      child.kill(signal);
      return exited;
    },
  };
}

/** Makes sure a server started by a test is gone, whatever the test did. */
export async function ensureStopped(server) {
  if (!server || server.child.exitCode !== null || server.child.signalCode !== null) return;
  server.child.kill('SIGKILL');
  await server.exited;
}

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
