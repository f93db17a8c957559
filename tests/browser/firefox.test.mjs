// Firefox interop: one headless Firefox ESR (puppeteer-core over WebDriver BiDi, no
// geckodriver) and one headless Chromium (playwright-core, tests/lib/browser.mjs) join one
// meeting with the real client; each decodes the other's video and receives its audio.
//
// Firefox gathers no loopback ICE candidates (and none without a default route), so CTest
// runs this file inside tests/browser/netns.sh --veth: a private namespace with loopback and
// a veth pair, tv0 = 10.255.255.1 carrying the default route (/work/shared/TESTING.md,
// "Firefox ESR, in its own namespace"). The server's media sockets bind 10.255.255.1 and
// announce it; HTTP stays on 127.0.0.1 (a secure context for getUserMedia in both
// browsers). The test checks that both browsers' media really goes to 10.255.255.1.
//
// Media stats come from the pages' own RTCPeerConnections: an init script (test code,
// not the client's, tests/lib/media.mjs) keeps a list of every connection a page makes.
// On failure the server log (--log-level debug) and each page's SDP are printed.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import puppeteer from 'puppeteer-core';
import { startServer, ensureStopped } from '../lib/server.mjs';
import { meetingUrl } from '../lib/meetings.mjs';
import { keepPeerConnections, inbound as inboundOf, receiving as receivingOf, until } from '../lib/media.mjs';
import { launchChromium } from '../lib/browser.mjs';

const FIREFOX_PATH = process.env.TEST_FIREFOX ?? '/usr/bin/firefox-esr';
const RTC_ADDRESS = process.env.TEST_NETNS_ADDRESS ?? '10.255.255.1';
let MEETING_URL; // created in before(): waiting room off
const STEP = { timeout: 90000 };

let server;
let firefox; // puppeteer Browser
let chromium; // launchChromium() result
const pages = {}; // name -> { kind: 'firefox' | 'chromium', page }
let failed = false;

const inbound = (name) => inboundOf(pages[name].page);
const receiving = (name, windowMs) => receivingOf(pages[name].page, windowMs);

async function launchFirefox() {
  try {
    return await puppeteer.launch({
      browser: 'firefox',
      executablePath: FIREFOX_PATH,
      headless: true,
      timeout: 30000,
      extraPrefsFirefox: {
        'media.navigator.streams.fake': true,
        'media.navigator.permission.disabled': true,
        'media.autoplay.default': 0, // allowed: remote media plays without a gesture
        'media.autoplay.blocking_policy': 0,
      },
    });
  } catch (e) {
    throw new Error(`could not start Firefox (${FIREFOX_PATH}): ${e.message}`);
  }
}

// The join form of web/src/meeting/PreJoin.tsx, the same way in both browsers: the
// "Your name" input by its label, the "Join meeting" button by its text.
async function nameInputSelector(page) {
  const inputSelector = await page.waitForFunction(
    () => {
      const label = [...document.querySelectorAll('label')].find((l) => l.textContent.trim() === 'Your name');
      return label?.control?.id ? `#${CSS.escape(label.control.id)}` : null;
    },
    { timeout: 15000 },
  );
  return inputSelector.jsonValue();
}

async function joinFirefox(name) {
  const page = await firefox.newPage();
  page.setDefaultTimeout(15000);
  await page.evaluateOnNewDocument(keepPeerConnections);
  page.on('pageerror', (e) => console.log(`[${name}] page error: ${e.message}`));
  page.on('console', (m) => {
    if (m.type() === 'error' || m.type() === 'warn') console.log(`[${name}] console ${m.type()}: ${m.text()}`);
  });
  pages[name] = { kind: 'firefox', page };
  await page.goto(MEETING_URL);
  const input = await nameInputSelector(page);
  await page.type(input, name);
  const button = await page.waitForSelector('button ::-p-text(Join meeting)');
  await button.click();
  await page.waitForFunction(() => document.body.dataset.meetingState === 'joined', { timeout: 15000 });
  return page;
}

async function joinChromium(name) {
  const page = chromium.page;
  await page.addInitScript(keepPeerConnections);
  page.on('pageerror', (e) => console.log(`[${name}] page error: ${e.message}`));
  pages[name] = { kind: 'chromium', page };
  await page.goto(MEETING_URL);
  await page.getByLabel('Your name').fill(name);
  await page.getByRole('button', { name: 'Join meeting' }).click();
  await page.waitForFunction(() => document.body.dataset.meetingState === 'joined', null, { timeout: 15000 });
  return page;
}

// The SDP each page's connections hold (for the failure report).
function sdpOf(name) {
  return pages[name].page.evaluate(() =>
    window.__pcs.map((pc, i) => ({
      pc: i,
      state: `${pc.connectionState}/${pc.iceConnectionState}/${pc.signalingState}`,
      local: pc.localDescription?.sdp ?? null,
      remote: pc.remoteDescription?.sdp ?? null,
    })),
  );
}

before(async () => {
  assert.equal(process.env.TEST_NETNS, 'veth', 'runs inside tests/browser/netns.sh --veth');
  server = await startServer({
    args: ['--rtc-address', RTC_ADDRESS, '--log-level', 'debug', '--meeting-reconnect-grace', '5', '--meeting-create', 'anyone'],
  });
  MEETING_URL = await meetingUrl(server);
  [firefox, chromium] = await Promise.all([
    launchFirefox(),
    launchChromium({ timeoutMs: 15000, extraArgs: ['--autoplay-policy=no-user-gesture-required'] }),
  ]);
});

after(async () => {
  if (failed) {
    for (const name of Object.keys(pages)) {
      try {
        console.log(`--- ${name} (${pages[name].kind}) peer connections:\n${JSON.stringify(await sdpOf(name), null, 1)}`);
      } catch (e) {
        console.log(`--- ${name}: no SDP (${e.message})`);
      }
    }
    console.log(`--- server log:\n${server?.logs()}`);
  }
  await Promise.allSettled([firefox?.close(), chromium?.close()]);
  await ensureStopped(server);
});

async function step(fn) {
  try {
    await fn();
  } catch (e) {
    failed = true;
    throw e;
  }
}

test('Firefox and Chromium join the same meeting with the real client', STEP, () =>
  step(async () => {
    await joinFirefox('Firefox');
    await joinChromium('Chromium');
    const version = await firefox.version();
    console.log(`browsers: ${version}, ${chromium.context.browser()?.version() ?? 'Chromium'}`);
  }));

test('each decodes the other\'s video and receives the other\'s audio', STEP, () =>
  step(async () => {
    for (const name of ['Firefox', 'Chromium']) {
      const t0 = Date.now();
      const d = await until(`${name} receives the other's video and audio`, async () => {
        const r = await receiving(name);
        return { ok: r.videos >= 1 && r.audios >= 1, ...r };
      }, 45000);
      console.log(`${name}: decoding ${d.videos} video (width ${d.widths}), receiving ${d.audios} audio ` +
                  `${JSON.stringify(d.audio)}, pairs ${JSON.stringify(d.pairs)} (${Date.now() - t0} ms)`);
    }
  }));

test('all media goes to the server at the veth address, not over loopback', STEP, () =>
  step(async () => {
    for (const name of ['Firefox', 'Chromium']) {
      const { pairs } = await inbound(name);
      assert.ok(pairs.length >= 2, `${name}: publish and subscribe pairs selected: ${JSON.stringify(pairs)}`);
      for (const p of pairs) {
        assert.ok(p.remote.startsWith(`${RTC_ADDRESS}:`), `${name}: remote candidate ${p.remote} is the server's ${RTC_ADDRESS}`);
      }
    }
  }));
