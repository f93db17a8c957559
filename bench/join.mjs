// Join time, measured in Chromium: from the moment a joining tab's signaling WebSocket is
// open to the first frame of a remote video decoded in that tab, for JOINS (default 10)
// joins of a fresh tab into a meeting where one participant already publishes camera and
// microphone. Prints a table and, last, the line
//   join_to_first_frame_ms p50=<n> p95=<n>
// and replaces the "Join time" section of docs/benchmarks.md.
//
// Run through scripts/bench-join, which builds the server and runs this inside a
// loopback-only network namespace (tests/browser/netns.sh).
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { startServer, ensureStopped, sleep } from '../tests/lib/server.mjs';
import { meetingUrl } from '../tests/lib/meetings.mjs';
import { launchChromium } from '../tests/lib/browser.mjs';

const JOINS = Number(process.env.JOINS ?? 10);
let MEETING_URL; // made once the server runs: waiting room off
const DOC = fileURLToPath(new URL('../docs/benchmarks.md', import.meta.url));

function instrument() {
  const NativeWS = window.WebSocket;
  window.__wsOpen = null;
  window.WebSocket = class extends NativeWS {
    constructor(...args) {
      super(...args);
      this.addEventListener('open', () => {
        window.__wsOpen ??= performance.now();
      });
    }
  };
  const NativePC = window.RTCPeerConnection;
  window.__pcs = [];
  window.RTCPeerConnection = class extends NativePC {
    constructor(...args) {
      super(...args);
      window.__pcs.push(this);
    }
  };
}

async function joinPage(browser, name) {
  const page = await browser.newPage();
  await page.addInitScript(instrument);
  await page.goto(MEETING_URL);
  await page.getByLabel('Your name').fill(name);
  await page.getByRole('button', { name: 'Join meeting' }).click();
  return page;
}

// Resolves in the page once a remote video has decoded a frame; returns the time in ms
// since the WebSocket opened. Polls getStats every 5 ms.
function firstFrame(page) {
  return page.evaluate(
    () =>
      new Promise((resolve, reject) => {
        const deadline = performance.now() + 20000;
        const poll = async () => {
          for (const pc of window.__pcs) {
            const stats = await pc.getStats();
            for (const s of stats.values()) {
              if (s.type === 'inbound-rtp' && s.kind === 'video' && s.framesDecoded > 0 && window.__wsOpen !== null) {
                // The frame decoded at most one poll ago; stats carry their own timestamp.
                resolve(Math.min(performance.now(), s.timestamp - performance.timeOrigin) - window.__wsOpen);
                return;
              }
            }
          }
          if (performance.now() > deadline) reject(new Error('no remote frame within 20 s'));
          else setTimeout(poll, 5);
        };
        poll();
      }),
  );
}

function percentile(sorted, p) {
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[i];
}

let server;
let browser;
try {
  server = await startServer({ args: ['--meeting-create', 'anyone'] });
  MEETING_URL = await meetingUrl(server);
  browser = await launchChromium({ timeoutMs: 20000, extraArgs: ['--autoplay-policy=no-user-gesture-required'] });
  const host = await joinPage(browser, 'Host');
  await host.waitForFunction(() => document.body.dataset.meetingState === 'joined');
  await sleep(2000); // the host's media is flowing before anyone joins
  const samples = [];
  for (let i = 0; i < JOINS; ++i) {
    const page = await joinPage(browser, `Guest ${i + 1}`);
    const ms = await firstFrame(page);
    samples.push(ms);
    console.log(`join ${String(i + 1).padStart(2)}: ${ms.toFixed(0)} ms`);
    await page.getByRole('button', { name: 'Leave meeting' }).click().catch(() => {});
    await page.close();
    await sleep(500);
  }
  const sorted = [...samples].sort((a, b) => a - b);
  const p50 = Math.round(percentile(sorted, 50));
  const p95 = Math.round(percentile(sorted, 95));
  const min = Math.round(sorted[0]);
  const max = Math.round(sorted[sorted.length - 1]);
  const table = [
    '| joins | min ms | p50 ms | p95 ms | max ms |',
    '| ---: | ---: | ---: | ---: | ---: |',
    `| ${samples.length} | ${min} | ${p50} | ${p95} | ${max} |`,
  ].join('\n');
  const section = [
    '<!-- begin:join -->',
    '## Join time (SFU issue)',
    '',
    'From the joining tab\'s signaling WebSocket being open to the first frame of a remote',
    'video decoded in that tab (headless Chromium, fake camera, loopback, one publisher',
    'already in the meeting; target under 500 ms). Reproduce with:',
    '',
    '```sh',
    'scripts/bench-join',
    '```',
    '',
    table,
    '<!-- end:join -->',
  ].join('\n');
  let doc = readFileSync(DOC, 'utf8');
  const re = /<!-- begin:join -->[\s\S]*?<!-- end:join -->/;
  doc = re.test(doc) ? doc.replace(re, section) : doc.trimEnd() + '\n\n' + section + '\n';
  writeFileSync(DOC, doc);
  console.log('');
  console.log(table);
  console.log(`join_to_first_frame_ms p50=${p50} p95=${p95}`);
} finally {
  await browser?.close();
  await ensureStopped(server);
}
