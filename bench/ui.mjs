// The browser client's weight and speed (issue 5), measured in headless Chromium:
//
//   1. Bundle: every file of the production build (build/web), raw and gzip -9.
//   2. Time to interactive: UI_LOADS (default 10) cold loads each of the landing page and
//      of a meeting's pre-join, every load in a fresh browser context (empty cache and
//      storage): from navigation start to the page's main button ("New meeting",
//      "Join meeting") being in the document, laid out, enabled, with the main thread
//      free for the next task; with FCP and domInteractive from the Performance API.
//   3. Smoothness: one viewer page with 9 remote videos. Ten participants, all the real
//      client in one Chromium: 9 publishers and the measured viewer (1280×800). Frame
//      intervals from requestAnimationFrame in the viewer over UI_FRAME_SECONDS (10),
//      and how many remote videos were being decoded meanwhile (from its own
//      RTCPeerConnection stats). The publishers are lighter than real people: their
//      cameras are a UI_CAMERA (640x360@15) file, they are muted, and their own pages
//      hide the videos they would show, so that the server sends them none (the machine
//      this runs on also has to encode ten cameras). The viewer is not changed at all.
//      With UI_TRACE=<file>, a Chromium trace of the viewer's measurement is written.
//
// Before measuring it waits (at most UI_QUIET_WAIT seconds, default 120) for the machine's
// load average to drop below its number of cores, and records the load it started at.
//
// Prints the tables, replaces the <!-- begin:ui --> section of docs/benchmarks.md and
// prints last:
//   ui_interactive_ms p50=<n> p95=<n> frame_ms p95=<n>
// (interactive: over the loads of both pages; frame: with 9 remote videos).
//
// Run through scripts/bench-ui, which builds the server and the client and runs this
// inside a loopback-only network namespace (tests/browser/netns.sh).
import { readFileSync, writeFileSync, readdirSync, statSync, mkdtempSync, rmSync } from 'node:fs';
import { gzipSync, constants as zlib } from 'node:zlib';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startServer, ensureStopped, sleep } from '../tests/lib/server.mjs';
import { meetingUrl } from '../tests/lib/meetings.mjs';
import { launchChromium, CHROMIUM_ARGS, CHROMIUM_PATH } from '../tests/lib/browser.mjs';
import { keepPeerConnections, inbound } from '../tests/lib/media.mjs';
import { T, UI_ARGS, VIEWPORTS, chromium, control, joinMeeting, participantIds, percentile, waitForVideos, writeFakeCamera } from '../tests/lib/ui.mjs';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const DOC = process.env.BENCH_DOC ?? join(ROOT, 'docs/benchmarks.md');
const WEB = process.env.BENCH_WEB_DIR ?? join(ROOT, 'build/web');
const LOADS = Number(process.env.UI_LOADS ?? 10);
const FRAME_SECONDS = Number(process.env.UI_FRAME_SECONDS ?? 10);
const PUBLISHERS = Number(process.env.UI_PUBLISHERS ?? 9);
const [CAM_W, CAM_H, CAM_FPS] = (process.env.UI_CAMERA ?? '640x360@15').split(/[x@]/).map(Number);
const TRACE = process.env.UI_TRACE ?? null;
const TARGET_MS = 1000;

const round = (x) => Math.round(x);
const kib = (n) => (n / 1024).toFixed(1);
const stats = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return { n: s.length, p50: percentile(s, 50), p95: percentile(s, 95), p99: percentile(s, 99), max: s[s.length - 1] };
};

// ------------------------------------------------------------------ 1. bundle

function bundle() {
  const files = [];
  const walk = (dir) => {
    for (const name of readdirSync(dir)) {
      const path = join(dir, name);
      // CMake leaves its own files in build/web; the server serves only the client's.
      if (name === 'CMakeFiles' || name.endsWith('.cmake') || name === 'CTestTestfile.cmake') continue;
      if (statSync(path).isDirectory()) walk(path);
      else {
        const data = readFileSync(path);
        const gzip = gzipSync(data, { level: zlib.Z_BEST_COMPRESSION }).length;
        files.push({ name: relative(WEB, path), raw: data.length, gzip });
      }
    }
  };
  walk(WEB);
  files.sort((a, b) => b.raw - a.raw);
  return files;
}

// ------------------------------------------------------------------ 2. time to interactive

// In the page, from the first script on: notes when a button of this name (text or
// aria-label) is in the document, laid out, visible and enabled, checked on every DOM
// change and every frame, and then when the main thread has got to its next task.
function watchForButton(name) {
  window.__ui = { readyAt: null, interactiveAt: null };
  const ready = () => {
    for (const b of document.querySelectorAll('button')) {
      const label = (b.getAttribute('aria-label') ?? b.textContent ?? '').trim();
      if (label !== name || b.disabled || b.getAttribute('aria-disabled') === 'true') continue;
      const r = b.getBoundingClientRect();
      if (r.width > 0 && r.height > 0 && getComputedStyle(b).visibility !== 'hidden') return true;
    }
    return false;
  };
  const check = () => {
    if (window.__ui.readyAt !== null || !ready()) return;
    window.__ui.readyAt = performance.now();
    setTimeout(() => (window.__ui.interactiveAt = performance.now()), 0);
  };
  new MutationObserver(check).observe(document, { subtree: true, childList: true, attributes: true, characterData: true });
  const frame = () => {
    check();
    if (window.__ui.readyAt === null) requestAnimationFrame(frame);
  };
  requestAnimationFrame(frame);
}

async function coldLoads(server) {
  const browser = await chromium.launch({ executablePath: CHROMIUM_PATH, headless: true, args: [...CHROMIUM_ARGS, ...UI_ARGS] });
  const pages = [
    { key: 'landing', label: 'landing `/`', path: () => '/', button: T.newMeeting },
    { key: 'prejoin', label: 'pre-join `/m/<id>`', path: (i) => `/m/bench-ui-${i}`, button: T.joinMeeting },
  ];
  const samples = Object.fromEntries(pages.map((p) => [p.key, { interactive: [], fcp: [], domInteractive: [] }]));
  try {
    for (let i = 0; i < LOADS; i++) {
      for (const p of pages) {
        const context = await browser.newContext({ viewport: VIEWPORTS.desktop });
        try {
          const page = await context.newPage();
          await page.addInitScript(watchForButton, p.button);
          await page.goto(server.url(p.path(i)), { waitUntil: 'commit' });
          await page.waitForFunction(() => window.__ui?.interactiveAt !== null, null, { timeout: 15000 });
          // The in-page check finds the button by its text; make sure it is the one that
          // has this accessible name.
          const button = page.getByRole('button', { name: p.button, exact: true });
          if (!(await button.isVisible()) || !(await button.isEnabled())) {
            throw new Error(`${p.label}: the button found is not "${p.button}" as a screen reader sees it`);
          }
          await page.waitForFunction(() => performance.getEntriesByName('first-contentful-paint').length > 0, null, { timeout: 5000 }).catch(() => {});
          const m = await page.evaluate(() => ({
            interactive: window.__ui.interactiveAt,
            fcp: performance.getEntriesByName('first-contentful-paint')[0]?.startTime ?? NaN,
            domInteractive: performance.getEntriesByType('navigation')[0]?.domInteractive ?? NaN,
          }));
          for (const k of Object.keys(m)) samples[p.key][k].push(m[k]);
          console.error(`load ${i + 1} ${p.key}: interactive ${round(m.interactive)} ms, FCP ${round(m.fcp)} ms, domInteractive ${round(m.domInteractive)} ms`);
        } finally {
          await context.close();
        }
      }
    }
  } finally {
    await browser.close();
  }
  return pages.map((p) => ({ ...p, samples: samples[p.key] }));
}

// ------------------------------------------------------------------ 3. frame times

// In the page: every requestAnimationFrame timestamp for `ms`.
function rafTimes(ms) {
  return new Promise((resolve) => {
    const times = [];
    const start = performance.now();
    const frame = (ts) => {
      times.push(ts);
      if (ts - start < ms) requestAnimationFrame(frame);
      else resolve(times);
    };
    requestAnimationFrame(frame);
  });
}

function intervals(times) {
  const d = [];
  for (let i = 1; i < times.length; i++) d.push(times[i] - times[i - 1]);
  return d;
}

// Remote videos of the viewer decoding between two stats snapshots, with their rate.
function decodingBetween(a, b, seconds) {
  return b.video
    .map((v) => {
      const before = a.video.find((x) => x.mid === v.mid);
      return before ? { fps: (v.frames - before.frames) / seconds, width: v.width } : null;
    })
    .filter((v) => v && v.fps > 0);
}

async function traced(page, fn) {
  if (!TRACE) return fn();
  const cdp = await page.context().newCDPSession(page);
  await cdp.send('Tracing.start', {
    transferMode: 'ReturnAsStream',
    traceConfig: {
      includedCategories: ['devtools.timeline', 'disabled-by-default-devtools.timeline', 'disabled-by-default-devtools.timeline.frame', 'toplevel', 'blink', 'cc', 'viz', 'media', 'webrtc'],
    },
  });
  try {
    return await fn();
  } finally {
    const done = new Promise((resolve) => cdp.once('Tracing.tracingComplete', resolve));
    await cdp.send('Tracing.end');
    const { stream } = await done;
    let out = '';
    for (;;) {
      const r = await cdp.send('IO.read', { handle: stream });
      out += r.base64Encoded ? Buffer.from(r.data, 'base64').toString() : r.data;
      if (r.eof) break;
    }
    await cdp.send('IO.close', { handle: stream });
    writeFileSync(TRACE, out);
    console.error(`trace written to ${TRACE}`);
  }
}

async function frameTimes(server) {
  const dir = mkdtempSync(join(tmpdir(), 'conclave-bench-ui-'));
  const cam = writeFakeCamera(join(dir, 'camera.y4m'), { width: CAM_W, height: CAM_H, fps: CAM_FPS, seconds: 2, hue: 200, noise: 6 });
  const browser = await launchChromium({
    timeoutMs: 20000,
    viewport: VIEWPORTS.desktop,
    extraArgs: [...UI_ARGS, `--use-file-for-fake-video-capture=${cam}`],
  });
  const url = await meetingUrl(server);
  try {
    const viewer = browser.page;
    await viewer.addInitScript(keepPeerConnections);
    await joinMeeting(viewer, { name: 'Viewer', url });
    await viewer.locator('[data-participant][data-source="camera"]').waitFor();
    const [selfId] = await participantIds(viewer); // alone: the only tile is the viewer's
    await sleep(1000);
    const alone = intervals(await viewer.evaluate(rafTimes, 5000));
    console.error(`alone: ${alone.length} frames`);

    for (let i = 0; i < PUBLISHERS; i++) {
      const page = await browser.newPage();
      await joinMeeting(page, { name: `Publisher ${i + 1}`, url });
      // A constructed style sheet is CSSOM, which the page's CSP allows: hidden videos are
      // reported as not shown and the server stops sending them to this page.
      await page.evaluate(() => {
        const sheet = new CSSStyleSheet();
        sheet.replaceSync('video { display: none !important; }');
        document.adoptedStyleSheets = [...document.adoptedStyleSheets, sheet];
      });
      await control(page, T.mute).click();
      console.error(`publisher ${i + 1} joined`);
    }
    await viewer.bringToFront();
    await viewer.waitForFunction(
      (n) => document.querySelectorAll('[data-participant][data-source="camera"]').length === n,
      PUBLISHERS + 1,
    );
    await waitForVideos(viewer, { count: PUBLISHERS + 1, timeoutMs: 30000 });
    await sleep(3000); // layers settle after the tiles got their sizes

    const a = await inbound(viewer);
    const t0 = Date.now();
    const times = await traced(viewer, () => viewer.evaluate(rafTimes, FRAME_SECONDS * 1000));
    const b = await inbound(viewer);
    const decoding = decodingBetween(a, b, (Date.now() - t0) / 1000);
    const shown = await viewer.evaluate(
      (self) =>
        [...document.querySelectorAll('[data-participant][data-source="camera"] video')].filter(
          (v) => v.closest('[data-participant]').dataset.participant !== self && !v.hidden && v.videoWidth > 0,
        ).length,
      selfId,
    );
    return { alone, busy: intervals(times), decoding, shown };
  } finally {
    await browser.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

// ------------------------------------------------------------------ report

function frameRow(what, d, decoding) {
  const s = stats(d);
  const slow = d.filter((x) => x > 33).length;
  const fps = decoding.length ? (decoding.reduce((x, v) => x + v.fps, 0) / decoding.length).toFixed(1) : '–';
  const widths = decoding.length ? [...new Set(decoding.map((v) => v.width))].sort((x, y) => x - y).join(', ') : '–';
  return `| ${what} | ${decoding.length} | ${fps} | ${widths} | ${d.length} | ${s.p50.toFixed(1)} | ${s.p95.toFixed(1)} | ${s.p99.toFixed(1)} | ${s.max.toFixed(1)} | ${((100 * slow) / d.length).toFixed(1)} % |`;
}

// Other work on the machine (a build, other browsers) makes every number here worse:
// wait, boundedly, for the 1-minute load average to drop below the number of cores.
async function waitForQuietMachine(maxSeconds) {
  const end = Date.now() + maxSeconds * 1000;
  while (loadavg()[0] >= cpus().length && Date.now() < end) {
    console.error(`load average ${loadavg()[0].toFixed(1)} on ${cpus().length} cores: waiting for a quieter machine`);
    await sleep(10000);
  }
  return loadavg()[0];
}

let server;
try {
  const load = await waitForQuietMachine(Number(process.env.UI_QUIET_WAIT ?? 120));
  server = await startServer({ args: ['--meeting-create', 'anyone'] });
  const files = bundle();
  const ttiPages = await coldLoads(server);
  const frames = await frameTimes(server);

  const total = files.reduce((t, f) => ({ raw: t.raw + f.raw, gzip: t.gzip + f.gzip }), { raw: 0, gzip: 0 });
  const bundleTable = [
    '| file | bytes | KiB | gzip -9 bytes | gzip KiB |',
    '| --- | ---: | ---: | ---: | ---: |',
    ...files.map((f) => `| \`${f.name}\` | ${f.raw} | ${kib(f.raw)} | ${f.gzip} | ${kib(f.gzip)} |`),
    `| **total** | ${total.raw} | ${kib(total.raw)} | ${total.gzip} | ${kib(total.gzip)} |`,
  ].join('\n');

  const all = [];
  const ttiRows = ttiPages.map((p) => {
    const s = p.samples;
    all.push(...s.interactive);
    const i = stats(s.interactive);
    const f = stats(s.fcp);
    const d = stats(s.domInteractive);
    return `| ${p.label} | "${p.button}" | ${s.interactive.length} | ${round(i.p50)} | ${round(i.p95)} | ${round(i.max)} | ${round(f.p50)} | ${round(f.p95)} | ${round(d.p50)} | ${round(d.p95)} |`;
  });
  const overall = stats(all);
  const ttiTable = [
    '| page | main button | loads | interactive p50 ms | p95 ms | max ms | FCP p50 ms | FCP p95 ms | domInteractive p50 ms | p95 ms |',
    '| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
    ...ttiRows,
  ].join('\n');

  const frameTable = [
    '| viewer | remote videos decoding | their mean fps | decoded widths px | frames | p50 ms | p95 ms | p99 ms | max ms | over 33 ms |',
    '| --- | ---: | ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: |',
    frameRow('alone in the meeting (5 s)', frames.alone, []),
    frameRow(`with ${PUBLISHERS} others (${FRAME_SECONDS} s)`, frames.busy, frames.decoding),
  ].join('\n');
  const busy = stats(frames.busy);

  const cpu = cpus()[0]?.model?.trim() ?? 'unknown CPU';
  const section = [
    '<!-- begin:ui -->',
    '## Browser client (client issue)',
    '',
    'The production build, how fast its pages become usable and how smooth the meeting view',
    'stays with nine remote videos; headless Chromium on loopback. Reproduce with:',
    '',
    '```sh',
    'scripts/bench-ui',
    '```',
    '',
    `Machine: ${cpu}, ${cpus().length} cores, load average ${load.toFixed(1)} when measuring started`,
    '(the browser, the server and all publishers share these cores).',
    '',
    '### Bundle',
    '',
    'Every file of `build/web`. The server sends them uncompressed; gzip -9 is what a',
    'compressing proxy in front of it would send.',
    '',
    bundleTable,
    '',
    '### Time to interactive',
    '',
    `${LOADS} cold loads of each page, each in a fresh browser context (empty cache), 1280×800:`,
    'from navigation start until the main button is in the page, laid out, visible and',
    'enabled, and the main thread has got to its next task. FCP and domInteractive from the',
    `Performance API. Target: under ${TARGET_MS} ms.`,
    '',
    ttiTable,
    '',
    '### Meeting view with nine remote videos',
    '',
    `Ten participants running the real client in one Chromium: nine publishers (camera a`,
    `${CAM_W}×${CAM_H} file at ${CAM_FPS} fps, microphone muted, their own pages hiding the videos they`,
    'would show so that the server sends them none) and the measured viewer at 1280×800,',
    'unchanged. Intervals between requestAnimationFrame callbacks in the viewer; "decoding":',
    `remote videos whose decoded frame count rose during the measurement (${frames.shown} remote`,
    'tiles were showing video).',
    '',
    frameTable,
    '<!-- end:ui -->',
  ].join('\n');

  let doc = readFileSync(DOC, 'utf8');
  const re = /<!-- begin:ui -->[\s\S]*?<!-- end:ui -->/;
  doc = re.test(doc) ? doc.replace(re, section) : doc.trimEnd() + '\n\n' + section + '\n';
  writeFileSync(DOC, doc);

  console.log(section.replace(/<!-- (begin|end):ui -->\n?/g, ''));
  console.log('');
  console.log(`ui_interactive_ms p50=${round(overall.p50)} p95=${round(overall.p95)} frame_ms p95=${busy.p95.toFixed(1)}`);
} finally {
  await ensureStopped(server);
}
