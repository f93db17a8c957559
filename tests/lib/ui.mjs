// Helpers for driving the browser client the way a person does, shared by the UI flows
// (tests/browser/ui.test.mjs), the accessibility checks (tests/browser/a11y.test.mjs), the
// screenshots (docs/screenshots.mjs) and the UI benchmark (bench/ui.mjs).
//
// Everything is found by the accessible names and data attributes of the UI contract
// (issue 5): those names are the interface, so they live here once, in T, and nowhere
// else in the tests. Nothing here reaches into the client's code or state: a page is
// driven through its buttons and fields and read through the DOM.
import assert from 'node:assert/strict';
import { openSync, writeSync, closeSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

// For scripts outside tests/ (bench/, docs/), which cannot resolve tests/node_modules.
export { chromium } from 'playwright-core';

/** The accessible names of the UI contract. */
export const T = Object.freeze({
  // landing
  newMeeting: 'New meeting',
  joinLink: 'Meeting link or ID',
  join: 'Join',
  leftStatus: 'You left the meeting.',
  rejoin: 'Rejoin',
  // pre-join
  yourName: 'Your name',
  joinMeeting: 'Join meeting',
  micLevel: 'Microphone level',
  camera: 'Camera',
  microphone: 'Microphone',
  speaker: 'Speaker',
  joinMicOff: 'Join with microphone off',
  joinCameraOff: 'Join with camera off',
  // in the meeting
  controls: 'Meeting controls',
  mute: 'Mute microphone',
  unmute: 'Unmute microphone',
  cameraOff: 'Turn camera off',
  cameraOn: 'Turn camera on',
  share: 'Share screen',
  stopShare: 'Stop sharing',
  raiseHand: 'Raise hand',
  lowerHand: 'Lower hand',
  reactions: 'Reactions',
  chat: 'Chat',
  chatUnread: (n) => `Chat, ${n} unread`,
  participants: 'Participants',
  participantsRegion: (n) => `Participants (${n})`,
  security: 'Security',
  /** The Security button: for hosts and co-hosts it says how many wait ("Security, 2 waiting"). */
  securityControl: /^Security(, \d+ waiting)?$/,
  securityWaiting: (n) => `Security, ${n} waiting`,
  settings: 'Settings',
  shortcuts: 'Keyboard shortcuts',
  leave: 'Leave meeting',
  videos: 'Videos',
  micOff: 'Microphone off',
  handRaised: 'Hand raised',
  message: 'Message',
  send: 'Send',
  copyInvite: 'Copy invite link',
  gridView: 'Grid view',
  speakerView: 'Speaker view',
});

/** Permissions for launchChromium when the clipboard is used. Playwright grants exactly
 *  the listed ones and refuses all others, so camera and microphone must be listed too
 *  (without them the client joins with neither, as if the person had said no). */
export const CLIPBOARD_PERMISSIONS = Object.freeze(['camera', 'microphone', 'clipboard-read', 'clipboard-write']);

/** Chromium flags every UI page needs on top of tests/lib/browser.mjs: remote audio and
 *  video play without a click, and "Share screen" picks the (fake) screen at once. */
export const UI_ARGS = Object.freeze([
  '--autoplay-policy=no-user-gesture-required',
  '--auto-select-desktop-capture-source=Entire screen',
]);

/** The two sizes the issue asks every screen to work at. */
export const VIEWPORTS = Object.freeze({
  desktop: { width: 1280, height: 800 },
  phone: { width: 390, height: 844 },
});

// ------------------------------------------------------------------ meeting state

/** document.body.dataset.meetingState: prejoin | joining | joined | reconnecting | left |
 *  error, or null where no meeting page is shown. */
export const meetingState = (page) => page.evaluate(() => document.body.dataset.meetingState ?? null);

export async function waitForMeetingState(page, state, { timeoutMs = 20000 } = {}) {
  try {
    await page.waitForFunction((s) => document.body.dataset.meetingState === s, state, { timeout: timeoutMs });
  } catch {
    const now = await meetingState(page).catch(() => '(page gone)');
    const alerts = await page.getByRole('alert').allTextContents().catch(() => []);
    throw new Error(
      `meeting state did not become "${state}" within ${timeoutMs} ms: it is ${JSON.stringify(now)}` +
        (alerts.length ? `; alerts: ${alerts.map((a) => JSON.stringify(a)).join(', ')}` : ''),
    );
  }
}

/** The meeting id in a /m/<id> address (null if it is not one). */
export function meetingIdOf(url) {
  return /^\/m\/([^/]+)$/.exec(new URL(url).pathname)?.[1] ?? null;
}

// ------------------------------------------------------------------ landing and joining

/** Landing → "New meeting" → the new meeting's pre-join. Resolves to { url, id }. The
 *  server must let this browser create meetings (`--meeting-create anyone`, or signed in);
 *  the meeting has the default settings: waiting room on. */
export async function createMeeting(page, origin, { timeoutMs = 10000 } = {}) {
  await page.goto(`${origin}/`);
  await page.getByRole('button', { name: T.newMeeting, exact: true }).click();
  await page.waitForURL((u) => u.origin === origin && /^\/m\/[^/]+$/.test(u.pathname), { timeout: timeoutMs });
  await waitForMeetingState(page, 'prejoin', { timeoutMs });
  return { url: page.url(), id: meetingIdOf(page.url()) };
}

/**
 * Joins through the pre-join form: opens `url` (if given), types the name, ticks "Join
 * with microphone off" / "Join with camera off" when asked to, presses "Join meeting" and
 * waits for meetingState "joined".
 */
export async function joinMeeting(page, { name, url, micOff = false, cameraOff = false, expect = 'joined', timeoutMs = 20000 } = {}) {
  if (url) await page.goto(url);
  await waitForMeetingState(page, 'prejoin', { timeoutMs });
  await page.getByRole('textbox', { name: T.yourName, exact: true }).fill(name);
  if (micOff) await page.getByRole('checkbox', { name: T.joinMicOff, exact: true }).check();
  if (cameraOff) await page.getByRole('checkbox', { name: T.joinCameraOff, exact: true }).check();
  await page.getByRole('button', { name: T.joinMeeting, exact: true }).click();
  await waitForMeetingState(page, expect, { timeoutMs });
}

/** A host or co-host lets `name` in from the Security panel's waiting list. */
export async function admitFromSecurityPanel(page, name) {
  const region = await openPanel(page, T.securityControl, T.security);
  await region.getByRole('button', { name: `Admit ${name}`, exact: true }).click();
}

// ------------------------------------------------------------------ the meeting view

export const controls = (page) => page.getByRole('group', { name: T.controls, exact: true });
/** A button of the control bar by its exact name (a string) or a RegExp. */
export const control = (page, name) =>
  controls(page).getByRole('button', typeof name === 'string' ? { name, exact: true } : { name });
export const stage = (page) => page.getByRole('region', { name: T.videos, exact: true });
/** A side panel (complementary region) by name or RegExp. */
export const panel = (page, name) =>
  page.getByRole('complementary', typeof name === 'string' ? { name, exact: true } : { name });
export const dialog = (page, name) => page.getByRole('dialog', { name, exact: true });

/** The tile of one person's camera or screen. */
export const tile = (page, participant, source = 'camera') =>
  page.locator(`[data-participant="${participant}"][data-source="${source}"]`);
/** Inside a tile or list row: the "Microphone off" / "Hand raised" marks. */
export const micOffMark = (scope) => scope.locator(`[aria-label="${T.micOff}"]`);
export const handMark = (scope) => scope.locator(`[aria-label="${T.handRaised}"]`);
/** A row of the participant list. */
export const participantItem = (page, participant) => page.locator(`[data-participant-item="${participant}"]`);

/** Participant ids with a camera tile on the page, in DOM order. */
export const participantIds = (page) =>
  page.evaluate(() => [
    ...new Set([...document.querySelectorAll('[data-participant][data-source="camera"]')].map((e) => e.dataset.participant)),
  ]);

/**
 * Waits until a camera tile appears whose participant id is not in `known`, and returns
 * that id: how a test learns the id of the person who just joined (the contract has no
 * "this is me" marker, so ids are learnt from the others' side).
 */
export async function waitForNewParticipant(page, known, { timeoutMs = 15000 } = {}) {
  const handle = await page.waitForFunction(
    (ids) => {
      const seen = [...document.querySelectorAll('[data-participant][data-source="camera"]')].map((e) => e.dataset.participant);
      return seen.find((id) => !ids.includes(id)) ?? null;
    },
    known,
    { timeout: timeoutMs },
  );
  return handle.jsonValue();
}

/** Opens a side panel with its control unless it is open already; returns the region. */
export async function openPanel(page, controlName, regionName) {
  const region = panel(page, regionName);
  if (!(await region.isVisible())) await control(page, controlName).click();
  await region.waitFor();
  return region;
}

/** Closes a panel by pressing its (pressed) control again, if it is open. */
export async function closePanel(page, controlName, regionName) {
  const region = panel(page, regionName);
  if (!(await region.isVisible())) return;
  await control(page, controlName).click();
  await region.waitFor({ state: 'hidden' });
}

/** Types a chat message into the open Chat panel and sends it with Enter. */
export async function sendChat(page, text) {
  const region = panel(page, T.chat);
  const box = region.getByRole('textbox', { name: T.message, exact: true });
  await box.fill(text);
  await box.press('Enter');
}

/**
 * Waits until every <video> in `selector` that is not hidden shows moving pictures: it has
 * a size, has data for the current frame and is playing. For screenshots and for counting
 * what a page really shows (not just what it subscribed to).
 */
export async function waitForVideos(page, { selector = '[data-participant] video', count = 1, timeoutMs = 20000 } = {}) {
  await page.waitForFunction(
    ({ selector, count }) => {
      const shown = [...document.querySelectorAll(selector)].filter((v) => !v.hidden && v.getClientRects().length > 0);
      const playing = shown.filter((v) => v.videoWidth > 0 && v.readyState >= 2 && !v.paused);
      return shown.length >= count && playing.length === shown.length;
    },
    { selector, count },
    { timeout: timeoutMs },
  );
}

// ------------------------------------------------------------------ activity checks

/**
 * rec.foreignRequests(origin), minus the client's own signaling WebSocket: recordActivity
 * compares origins literally, so ws://host:port/ws counts as foreign to http://host:port
 * although it is the same server (wss: likewise for https:).
 */
export function foreignRequests(rec, origin) {
  return rec.foreignRequests(origin).filter((u) => !sameServer(u, origin));
}

function sameServer(url, origin) {
  try {
    const u = new URL(url);
    const scheme = { 'ws:': 'http:', 'wss:': 'https:' }[u.protocol];
    return scheme !== undefined && `${scheme}//${u.host}` === origin;
  } catch {
    return false;
  }
}

/**
 * A mark in a recordActivity() recorder: since(origin) returns what was added after it
 * (foreign requests and problems), so that each test checks only what it caused and one
 * early problem does not fail every later test.
 */
export function checkpoint(rec) {
  const requestsAt = rec.requests.length;
  const socketsAt = rec.websockets.length;
  const problemsBefore = rec.problems();
  return {
    foreignRequests(origin) {
      // Requests and WebSockets are kept in arrival order, so the tail is what is new.
      const fresh = new Set([...rec.requests.slice(requestsAt).map((r) => r.url), ...rec.websockets.slice(socketsAt)]);
      return foreignRequests(rec, origin).filter((u) => fresh.has(u));
    },
    // problems() is grouped by kind, not in time order: take away the earlier ones.
    problems() {
      const earlier = [...problemsBefore];
      return rec.problems().filter((x) => {
        const i = earlier.indexOf(x);
        if (i < 0) return true;
        earlier.splice(i, 1);
        return false;
      });
    },
  };
}

/** Asserts that nothing since the checkpoints went to another origin and that no page
 *  logged an error or warning, failed a request or broke the CSP. */
export function assertClean(origin, marks) {
  for (const [who, mark] of Object.entries(marks)) {
    assert.deepEqual(mark.foreignRequests(origin), [], `${who}: requests to another origin than ${origin}`);
    assert.deepEqual(mark.problems(), [], `${who}: console errors/warnings, page errors, failed requests`);
  }
}

// ------------------------------------------------------------------ axe-core

export const AXE_PATH = fileURLToPath(new URL('../node_modules/axe-core/axe.min.js', import.meta.url));
const BLOCKING = ['serious', 'critical'];
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/**
 * Runs axe-core on the page as it is now and returns the violations of impact serious or
 * critical (all impacts with { impacts: null }), each as
 * { id, impact, help, helpUrl, nodes: [{ target, summary }] }.
 *
 * axe is injected as a script tag, which the server's CSP (script-src 'self') refuses: the
 * page's context must be created with bypassCSP: true.
 */
export async function axeCheck(page, { impacts = BLOCKING, options = {} } = {}) {
  if (!(await page.evaluate(() => typeof window.axe === 'object'))) {
    await page.addScriptTag({ path: AXE_PATH });
    if (!(await page.evaluate(() => typeof window.axe === 'object'))) {
      throw new Error('axe-core did not load: is the context created with bypassCSP: true?');
    }
  }
  const violations = await page.evaluate(
    async (options) => {
      // Only violations are needed; skipping passes and incompletes makes a run faster.
      const r = await window.axe.run(document, { resultTypes: ['violations'], ...options });
      return r.violations.map((v) => ({
        id: v.id,
        impact: v.impact,
        help: v.help,
        helpUrl: v.helpUrl,
        nodes: v.nodes.map((n) => ({ target: n.target.join(' '), summary: n.failureSummary ?? '' })),
      }));
    },
    { ...options },
  );
  return impacts ? violations.filter((v) => impacts.includes(v.impact)) : violations;
}

/** One readable block per violation: rule, impact, what to do, and every element. */
export function formatAxeViolations(violations, screenName) {
  const lines = [`${violations.length} serious/critical axe violation(s) on ${screenName}:`];
  for (const v of violations) {
    lines.push(`- ${v.id} (${v.impact}): ${v.help}  [${v.helpUrl}]`);
    for (const n of v.nodes) {
      lines.push(`    at ${n.target}`);
      for (const s of n.summary.split('\n').filter(Boolean)) lines.push(`      ${s.trim()}`);
    }
  }
  return lines.join('\n');
}

/** Fails with every serious or critical violation axe finds on the page now. */
export async function expectNoAxeViolations(page, screenName) {
  const violations = await axeCheck(page);
  if (violations.length) assert.fail(formatAxeViolations(violations, screenName));
}

/** Lets the page lay out and paint after a viewport or colour-scheme change (and lets a
 *  short CSS transition end, so that contrast is measured on the final colours). */
export async function settle(page, ms = 300) {
  await page.evaluate(() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r))));
  await sleep(ms);
}

// ------------------------------------------------------------------ fake camera

/**
 * Writes a Y4M video for Chromium's --use-file-for-fake-video-capture: a head-and-
 * shoulders silhouette, swaying slightly, on a soft background of the given hue, so that a
 * grid of fake cameras looks like people rather than test patterns, and so that the camera
 * resolution (the encoder's and decoder's load) can be chosen. Chromium loops the file.
 * `noise` adds sensor-like grain so that every frame costs the encoder real work.
 */
export function writeFakeCamera(path, { width = 640, height = 360, fps = 30, seconds = 2, hue = 200, noise = 0 } = {}) {
  const frames = Math.max(1, Math.round(fps * seconds));
  const fd = openSync(path, 'w');
  try {
    writeSync(fd, `YUV4MPEG2 W${width} H${height} F${fps}:1 Ip A1:1 C420jpeg\n`);
    const y = Buffer.alloc(width * height);
    const u = Buffer.alloc((width / 2) * (height / 2));
    const v = Buffer.alloc((width / 2) * (height / 2));
    const bgTop = hsl(hue, 0.35, 0.78);
    const bgBottom = hsl(hue, 0.3, 0.56);
    const person = hsl(hue + 20, 0.25, 0.3);
    let seed = 1;
    const rand = () => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff) - 0.5;
    for (let f = 0; f < frames; f++) {
      const sway = Math.sin((2 * Math.PI * f) / frames) * width * 0.02;
      const headX = width / 2 + sway;
      const headY = height * 0.42;
      const headR = height * 0.17;
      const bodyX = width / 2 + sway * 0.5;
      const bodyY = height * 1.05;
      const bodyRx = height * 0.42;
      const bodyRy = height * 0.36;
      for (let j = 0; j < height; j++) {
        const t = j / (height - 1);
        const bg = [0, 1, 2].map((k) => bgTop[k] * (1 - t) + bgBottom[k] * t);
        for (let i = 0; i < width; i++) {
          const inHead = (i - headX) ** 2 + (j - headY) ** 2 <= headR ** 2;
          const inBody = ((i - bodyX) / bodyRx) ** 2 + ((j - bodyY) / bodyRy) ** 2 <= 1;
          const [r, g, b] = inHead || inBody ? person : bg;
          const grain = noise ? rand() * noise : 0;
          y[j * width + i] = clamp(0.299 * r + 0.587 * g + 0.114 * b + grain);
          if ((i & 1) === 0 && (j & 1) === 0) {
            const k = (j >> 1) * (width >> 1) + (i >> 1);
            u[k] = clamp(128 - 0.168736 * r - 0.331264 * g + 0.5 * b);
            v[k] = clamp(128 + 0.5 * r - 0.418688 * g - 0.081312 * b);
          }
        }
      }
      writeSync(fd, 'FRAME\n');
      writeSync(fd, y);
      writeSync(fd, u);
      writeSync(fd, v);
    }
  } finally {
    closeSync(fd);
  }
  return path;
}

const clamp = (x) => Math.max(0, Math.min(255, Math.round(x)));

function hsl(h, s, l) {
  const a = s * Math.min(l, 1 - l);
  const f = (n) => {
    const k = (n + h / 30) % 12;
    return 255 * (l - a * Math.max(-1, Math.min(k - 3, 9 - k, 1)));
  };
  return [f(0), f(8), f(4)];
}

// ------------------------------------------------------------------ numbers

/** Nearest-rank percentile of an ascending array. */
export function percentile(sorted, p) {
  if (sorted.length === 0) return NaN;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[i];
}
