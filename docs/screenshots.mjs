// Screenshots of the browser client for the documentation, taken from a staged meeting of
// four people (Amara, Bo, Chiara, Dmitri), each in their own headless Chromium with their
// own fake camera: Bo's hand is up, Chiara is muted, there are a few chat messages and
// Dmitri shares slides. Everything is seen from Amara's side, at 1280×800 and 390×844:
//
//   docs/screenshots/{prejoin,grid,screenshare,chat}-{desktop,phone}.png
//
// Run through scripts/screenshots (builds the server and the client, then runs this inside
// a loopback-only network namespace). Output directory: SCREENSHOTS_DIR, default
// docs/screenshots.
//
// Staging, so that the pictures look like use rather than test patterns: the cameras are
// Y4M files of head-and-shoulders silhouettes (tests/lib/ui.mjs, writeFakeCamera), and
// Dmitri's "screen" is a canvas with slides, handed to the client by a test-only
// replacement of getDisplayMedia (Chromium's fake screen is a green test card). What the
// client does with them, and everything Amara receives, is the real thing.
//
// A part of the contract the client does not have yet (a panel, a button) does not stop
// the run: the screenshot is taken as the page is, the missing part is listed at the end,
// and the exit status is 1 so that incomplete pictures are not mistaken for finished ones.
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startServer, ensureStopped } from '../tests/lib/server.mjs';
import { meetingUrl } from '../tests/lib/meetings.mjs';
import { launchChromium } from '../tests/lib/browser.mjs';
import {
  T,
  UI_ARGS,
  VIEWPORTS,
  control,
  joinMeeting,
  openPanel,
  closePanel,
  participantIds,
  sendChat,
  settle,
  tile,
  waitForMeetingState,
  waitForNewParticipant,
  waitForVideos,
  writeFakeCamera,
} from '../tests/lib/ui.mjs';

const OUT = process.env.SCREENSHOTS_DIR ?? fileURLToPath(new URL('./screenshots/', import.meta.url));
const PEOPLE = [
  { name: 'Amara', hue: 205 },
  { name: 'Bo', hue: 28 },
  { name: 'Chiara', hue: 150 },
  { name: 'Dmitri', hue: 275 },
];

const missing = [];
/** Runs one staging step; a failure is noted and the run goes on. */
async function attempt(what, fn) {
  try {
    return await fn();
  } catch (e) {
    const why = String(e.message ?? e).split('\n')[0];
    missing.push(`${what}: ${why}`);
    console.error(`screenshots: ${what}: ${why}`);
    return undefined;
  }
}

// Test-only: Dmitri's getDisplayMedia returns slides drawn on a canvas. Redrawn ten times
// a second (a moving pointer), so that the encoder always has frames for a new subscriber.
function slidesForScreenShare() {
  const draw = (ctx, t) => {
    const W = 1280;
    const H = 720;
    ctx.fillStyle = '#fbfbf8';
    ctx.fillRect(0, 0, W, H);
    ctx.fillStyle = '#2f5d50';
    ctx.fillRect(0, 0, W, 12);
    ctx.fillStyle = '#1b1f1d';
    ctx.font = 'bold 56px sans-serif';
    ctx.fillText('Q3 roadmap', 80, 130);
    ctx.fillStyle = '#55605b';
    ctx.font = '28px sans-serif';
    ctx.fillText('Team weekly \u00b7 Dmitri', 80, 180);
    ctx.fillStyle = '#1b1f1d';
    ctx.font = '30px sans-serif';
    const bullets = ['Self-hosted rollout to two more sites', 'End-to-end encryption on by default', 'Phone layout and accessibility pass'];
    bullets.forEach((b, i) => {
      ctx.beginPath();
      ctx.arc(92, 268 + i * 70, 7, 0, 2 * Math.PI);
      ctx.fill();
      ctx.fillText(b, 120, 279 + i * 70);
    });
    const bars = [0.45, 0.62, 0.71, 0.88];
    const colors = ['#9cc5b8', '#6fb39e', '#4b8a77', '#2f5d50'];
    bars.forEach((v, i) => {
      const x = 820 + i * 95;
      const h = v * 380;
      ctx.fillStyle = colors[i];
      ctx.fillRect(x, 620 - h, 70, h);
      ctx.fillStyle = '#55605b';
      ctx.font = '22px sans-serif';
      ctx.fillText(`W${i + 1}`, x + 16, 655);
    });
    ctx.strokeStyle = '#d5dbd7';
    ctx.lineWidth = 2;
    ctx.beginPath();
    ctx.moveTo(800, 620);
    ctx.lineTo(1200, 620);
    ctx.stroke();
    // A presenter's pointer drifting over the chart.
    ctx.fillStyle = 'rgba(220, 40, 40, 0.85)';
    ctx.beginPath();
    ctx.arc(990 + Math.sin(t / 900) * 120, 360 + Math.cos(t / 1300) * 60, 9, 0, 2 * Math.PI);
    ctx.fill();
  };
  navigator.mediaDevices.getDisplayMedia = async () => {
    const canvas = document.createElement('canvas');
    canvas.width = 1280;
    canvas.height = 720;
    const ctx = canvas.getContext('2d');
    draw(ctx, 0);
    const stream = canvas.captureStream(10);
    const timer = setInterval(() => draw(ctx, performance.now()), 100);
    stream.getVideoTracks()[0].addEventListener('ended', () => clearInterval(timer));
    return stream;
  };
}

let server;
const browsers = [];
const camDir = mkdtempSync(join(tmpdir(), 'conclave-cams-'));
try {
  mkdirSync(OUT, { recursive: true });
  server = await startServer({ args: ['--meeting-create', 'anyone'] });
  const people = {};
  for (const p of PEOPLE) {
    const cam = writeFakeCamera(join(camDir, `${p.name}.y4m`), { width: 640, height: 360, fps: 30, seconds: 2, hue: p.hue });
    const b = await launchChromium({
      timeoutMs: 15000,
      viewport: p.name === 'Amara' ? VIEWPORTS.desktop : { width: 960, height: 600 },
      colorScheme: 'light',
      // The others only send: their pages' CSP is bypassed to add a style that hides
      // their videos (see below). Amara's page runs under the real CSP.
      bypassCSP: p.name !== 'Amara',
      extraArgs: [...UI_ARGS, `--use-file-for-fake-video-capture=${cam}`],
    });
    browsers.push(b);
    people[p.name] = b.page;
  }
  const { Amara: amara, Bo: bo, Chiara: chiara, Dmitri: dmitri } = people;
  await dmitri.addInitScript(slidesForScreenShare);

  const shoot = async (name) => {
    for (const [size, viewport] of Object.entries(VIEWPORTS)) {
      await amara.setViewportSize(viewport);
      await settle(amara, 700);
      await amara.screenshot({ path: join(OUT, `${name}-${size}.png`) });
      console.log(`screenshots: ${name}-${size}.png`);
    }
    await amara.setViewportSize(VIEWPORTS.desktop);
  };

  // A meeting everyone goes straight into (no waiting room: this is about the room).
  const url = await meetingUrl(server);
  const ids = {};
  let known = [];
  for (const [name, page] of [['Bo', bo], ['Chiara', chiara], ['Dmitri', dmitri]]) {
    await joinMeeting(page, { name, url });
    // Hidden videos are reported to the server as not shown, so it stops sending them:
    // three fewer decoders on a small machine, and nothing changes on Amara's side.
    await page.addStyleTag({ content: 'video { display: none !important; }' });
    if (name === 'Bo') {
      known = await participantIds(page);
      ids.Bo = known[0];
    } else {
      ids[name] = await waitForNewParticipant(bo, known);
      known.push(ids[name]);
    }
  }

  // Pre-join: Amara's name typed, her preview running.
  await amara.goto(url);
  await waitForMeetingState(amara, 'prejoin');
  await amara.getByRole('textbox', { name: T.yourName, exact: true }).fill('Amara');
  await attempt('camera preview (video[data-preview])', () =>
    waitForVideos(amara, { selector: 'video[data-preview]', count: 1, timeoutMs: 8000 }),
  );
  await amara.evaluate(() => document.activeElement?.blur());
  await shoot('prejoin');

  // The grid: four people, Bo's hand up, Chiara muted.
  await joinMeeting(amara, { name: 'Amara' });
  await amara.waitForFunction(() => document.querySelectorAll('[data-participant][data-source="camera"]').length === 4);
  await waitForVideos(amara, { count: 4 });
  await attempt('Bo raises his hand ("Raise hand")', async () => {
    await control(bo, T.raiseHand).click();
    await amara.locator(`[data-participant="${ids.Bo}"][data-source="camera"][data-hand="raised"]`).waitFor({ timeout: 8000 });
  });
  await attempt('Chiara mutes ("Mute microphone")', async () => {
    await control(chiara, T.mute).click();
    await tile(amara, ids.Chiara).locator(`[aria-label="${T.micOff}"]`).waitFor({ timeout: 8000 });
  });
  await amara.evaluate(() => document.activeElement?.blur());
  await shoot('grid');

  // The chat: two messages from the others, Amara's answer, the panel open.
  await attempt('chat ("Chat" panel, "Message", data-chat-message)', async () => {
    await openPanel(bo, /^Chat/, T.chat);
    await sendChat(bo, 'Morning all! The slides are in the team folder.');
    await openPanel(chiara, /^Chat/, T.chat);
    await sendChat(chiara, 'Thanks, I\u2019ll take notes today.');
    await control(amara, /^Chat(, \d+ unread)?$/).click();
    const region = await openPanel(amara, /^Chat/, T.chat);
    await region.locator('[data-chat-message]').nth(1).waitFor({ timeout: 8000 });
    await sendChat(amara, 'Great \u2014 Dmitri, over to you for the roadmap.');
    await region.locator('[data-chat-message]').nth(2).waitFor({ timeout: 8000 });
  });
  await amara.evaluate(() => document.activeElement?.blur());
  await shoot('chat');
  await closePanel(amara, /^Chat/, T.chat).catch(() => {});

  // The screen share, large on Amara's stage.
  await control(dmitri, T.share).click();
  const share = tile(amara, ids.Dmitri, 'screen');
  await share.waitFor();
  await waitForVideos(amara, { selector: `[data-participant="${ids.Dmitri}"][data-source="screen"] video` });
  await attempt('the share as the main tile (data-layout-role="main")', () =>
    amara.locator(`[data-participant="${ids.Dmitri}"][data-source="screen"][data-layout-role="main"]`).waitFor({ timeout: 8000 }),
  );
  await amara.evaluate(() => document.activeElement?.blur());
  await shoot('screenshare');
} finally {
  for (const b of browsers) await b.close().catch(() => {});
  await ensureStopped(server);
  rmSync(camDir, { recursive: true, force: true });
}

if (missing.length) {
  console.error(`\nscreenshots: written to ${OUT}, but these parts of the UI were not there:`);
  for (const m of missing) console.error(`  - ${m}`);
  process.exitCode = 1;
} else {
  console.log(`screenshots: all written to ${OUT}`);
}
