// SFrame in Chromium (issue 6, "Scale and cost"): the real web/src/e2ee/sframe.ts, bundled
// with esbuild and run in a headless Chromium page, protecting and unprotecting frames of
// the sizes bench/e2ee_bench.cpp measures in C++ (an Opus frame of 100 bytes, VP8 delta
// frames of 1 000, 5 000 and 20 000 bytes with a 3-byte clear prefix, a VP8 key frame of
// 100 000 bytes with a 10-byte one), suite 4 (AES_128_GCM_SHA256_128). Every call is
// awaited before the next one, as the encoded-transform worker does, and timed with
// performance.now() over many frames (about E2EE_BENCH_MS per size and operation; the
// median of E2EE_BENCH_ROUNDS rounds).
//
// Nothing goes over the network: the page is a local document and the module is inlined.
// Prints one JSON object on stdout:
//   {"chromium": "...", "page": "...", "sizes": [{"bytes", "frames", "protect_us",
//    "unprotect_us", "both_us"}, ...]}
// Run by scripts/bench-e2ee, which puts it next to the C++ numbers.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { CHROMIUM_PATH, launchChromium } from '../tests/lib/browser.mjs';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const SIZES = [100, 1000, 5000, 20000, 100000];
const BUDGET_MS = Number(process.env.E2EE_BENCH_MS ?? 250);
const ROUNDS = Number(process.env.E2EE_BENCH_ROUNDS ?? 3);

function bundle() {
  return execFileSync(
    join(ROOT, 'web/node_modules/.bin/esbuild'),
    ['web/src/e2ee/sframe.ts', '--bundle', '--format=iife', '--global-name=SF', '--log-level=warning'],
    { cwd: ROOT, encoding: 'utf8' },
  );
}

function chromiumVersion() {
  try {
    const v = execFileSync(CHROMIUM_PATH, ['--version'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
    return /([\d.]+)/.exec(v)?.[1] ?? v.trim();
  } catch {
    return 'unknown';
  }
}

// Runs in the page, with the bundle's global SF.
async function measure({ sizes, budgetMs, rounds }) {
  const SF = globalThis.SF;
  const base = crypto.getRandomValues(new Uint8Array(16));
  const kid = (0x5eed0001n << 16n) | 0n; // kid_of(key_id, epoch 0)
  const km = await SF.deriveKeyMaterial(4, kid, base);
  const keyFor = (k) => (k === kid ? km : null);
  let ctr = 0n;

  function frameOf(size) {
    const frame = new Uint8Array(size);
    for (let i = 0; i < size; i++) frame[i] = (i * 131 + 7) & 0xff;
    let prefix = 0;
    if (size > 100) {
      frame[0] = size >= 100000 ? 0x10 : 0x31; // the VP8 frame tag's low bit: 0 = key frame
      prefix = (frame[0] & 1) === 0 ? 10 : 3;
    }
    const metadata = Uint8Array.from([prefix, ...frame.subarray(0, prefix)]);
    return { body: frame.subarray(prefix), metadata };
  }

  async function unprotectChecked(metadata, sframe, body) {
    const r = await SF.unprotect(keyFor, metadata, sframe);
    if (r.error || r.plaintext.length !== body.length) throw new Error(`unprotect: ${r.error ?? 'length'}`);
    return r;
  }

  const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  const out = [];
  for (const size of sizes) {
    const { body, metadata } = frameOf(size);
    // Warm up, and estimate how many frames fill the budget.
    let t0 = performance.now();
    const warm = 20;
    for (let i = 0; i < warm; i++) await unprotectChecked(metadata, await SF.protect(km, ctr++, metadata, body), body);
    const perFrame = (performance.now() - t0) / warm;
    // At most 5000 frames, and at most 32 MB of protected frames kept for the unprotect pass.
    const most = Math.min(5000, Math.floor((32 << 20) / size));
    const frames = Math.max(50, Math.min(most, Math.round(budgetMs / Math.max(perFrame / 2, 0.001))));
    const protects = [];
    const unprotects = [];
    const boths = [];
    for (let round = 0; round < rounds; round++) {
      const sealed = new Array(frames);
      t0 = performance.now();
      for (let i = 0; i < frames; i++) sealed[i] = await SF.protect(km, ctr++, metadata, body);
      protects.push((performance.now() - t0) / frames);
      t0 = performance.now();
      for (let i = 0; i < frames; i++) await SF.unprotect(keyFor, metadata, sealed[i]);
      unprotects.push((performance.now() - t0) / frames);
      await unprotectChecked(metadata, sealed[frames - 1], body); // they were authentic
      t0 = performance.now();
      for (let i = 0; i < frames; i++) await SF.unprotect(keyFor, metadata, await SF.protect(km, ctr++, metadata, body));
      boths.push((performance.now() - t0) / frames);
    }
    out.push({
      bytes: size,
      frames,
      protect_us: median(protects) * 1000,
      unprotect_us: median(unprotects) * 1000,
      both_us: median(boths) * 1000,
    });
  }
  return out;
}

const browser = await launchChromium({ timeoutMs: 120000 });
const tmp = mkdtempSync(join(tmpdir(), 'conclave-e2ee-bench-'));
try {
  const page = browser.page;
  // WebCrypto needs a secure context: setContent's about:blank may or may not be one; a
  // file:// document is.
  let where = 'page.setContent';
  await page.setContent('<!doctype html><html><body></body></html>');
  if (!(await page.evaluate(() => self.isSecureContext))) {
    const file = join(tmp, 'e2ee-bench.html');
    writeFileSync(file, '<!doctype html><html><body></body></html>');
    await page.goto(pathToFileURL(file).href);
    where = 'file:// document';
    if (!(await page.evaluate(() => self.isSecureContext))) throw new Error('no secure context for WebCrypto');
  }
  await page.addScriptTag({ content: bundle() });
  const sizes = await page.evaluate(measure, { sizes: SIZES, budgetMs: BUDGET_MS, rounds: ROUNDS });
  process.stdout.write(JSON.stringify({ chromium: chromiumVersion(), page: where, sizes }) + '\n');
} finally {
  await browser.close();
  rmSync(tmp, { recursive: true, force: true });
}
