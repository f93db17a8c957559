// Meeting security as people meet it (issue 7), in real Chromium browsers: the host signs
// up and creates a meeting; a guest waits and is let in; the host locks the meeting and a
// newcomer is turned away; the host removes the guest with a ban and the guest cannot come
// back; with screen sharing for hosts only, a participant's Share button is disabled and a
// hand-made publish of a screen track from that browser is refused by the server.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, ensureStopped } from '../lib/server.mjs';
import { launchChromium } from '../lib/browser.mjs';
import {
  T,
  UI_ARGS,
  VIEWPORTS,
  admitFromSecurityPanel,
  control,
  joinMeeting,
  openPanel,
  waitForMeetingState,
} from '../lib/ui.mjs';

const STEP = { timeout: 45000 };
let server;
let host;
let guest;
let late;
let url;

const options = { timeoutMs: 10000, viewport: VIEWPORTS.desktop, extraArgs: UI_ARGS };

before(
  async () => {
    server = await startServer({ args: ['--auth-signup', 'open'] });
    [host, guest, late] = await Promise.all([launchChromium(options), launchChromium(options), launchChromium(options)]);
  },
  { timeout: 60000 },
);
after(async () => {
  for (const b of [host, guest, late]) await b?.close().catch(() => {});
  await ensureStopped(server);
});

const alertText = (page) => page.getByRole('alert').first().innerText();

test('the host signs up, creates a meeting and joins it as host', STEP, async () => {
  const page = host.page;
  await page.goto(server.url('/'));
  // Without an account, starting a meeting leads to signing in.
  await page.getByRole('link', { name: 'Sign in', exact: true }).first().waitFor();
  await page.goto(server.url('/signup'));
  await page.getByRole('textbox', { name: 'Your name', exact: true }).fill('Hana Host');
  await page.getByRole('textbox', { name: 'Email', exact: true }).fill('hana@example.org');
  await page.getByLabel('Password', { exact: true }).fill('a long and good password');
  await page.getByRole('button', { name: 'Create account', exact: true }).click();
  await page.getByRole('button', { name: T.newMeeting, exact: true }).click();
  await page.waitForURL((u) => /^\/m\/[0-9a-z-]{19}$/.test(u.pathname) && /^#p=[0-9a-z]{10}$/.test(u.hash));
  url = page.url();
  await joinMeeting(page, { name: 'Hana' });
  const panel = await openPanel(page, T.security, T.security);
  await panel.getByRole('heading', { name: 'Host controls' }).waitFor();
  await panel.getByText('No one is waiting').waitFor();
});

test('a guest waits in the waiting room until the host lets them in', STEP, async () => {
  await guest.page.goto(url);
  await joinMeeting(guest.page, { name: 'Gus', expect: 'waiting' });
  await guest.page.getByRole('heading', { name: 'Waiting to be let in' }).waitFor();
  // Nothing of the meeting is shown while waiting.
  assert.equal(await guest.page.locator('[data-participant]').count(), 0);
  await host.page.getByText('Gus is waiting to join.').waitFor();
  await admitFromSecurityPanel(host.page, 'Gus');
  await waitForMeetingState(guest.page, 'joined');
  await guest.page.locator('[data-participant]').first().waitFor();
});

test('the host locks the meeting: a newcomer is told it is locked', STEP, async () => {
  const panel = await openPanel(host.page, T.security, T.security);
  await panel.getByRole('checkbox', { name: /^Lock meeting/ }).check();
  await guest.page.getByText('The host locked the meeting. No one new can join.').waitFor();
  await late.page.goto(url);
  await waitForMeetingState(late.page, 'prejoin');
  await late.page.getByRole('textbox', { name: T.yourName, exact: true }).fill('Lena');
  await late.page.getByRole('button', { name: T.joinMeeting, exact: true }).click();
  await waitForMeetingState(late.page, 'error');
  assert.match(await alertText(late.page), /locked/);
  await panel.getByRole('checkbox', { name: /^Lock meeting/ }).uncheck();
});

test('the host removes the guest with a ban: the guest cannot come back', STEP, async () => {
  const people = await openPanel(host.page, T.participants, 'Participants (2)');
  await people.locator('summary', { hasText: '⋯' }).click();
  await people.getByRole('button', { name: 'Remove from meeting', exact: true }).click();
  const dialog = host.page.getByRole('dialog');
  await dialog.getByRole('checkbox', { name: "Don't let them rejoin", exact: true }).check();
  await dialog.getByRole('button', { name: 'Remove from meeting', exact: true }).click();
  await guest.page.waitForFunction(() => document.body.dataset.meetingEnded === 'removed');
  await guest.page.getByText('You were removed from the meeting.').waitFor();
  assert.equal(await guest.page.getByRole('button', { name: T.rejoin, exact: true }).count(), 0);
  await host.page.getByText(/was removed from the meeting/).waitFor();
  // The same browser, by the same link: refused.
  await guest.page.goto(server.url('/'));
  await guest.page.goto(url);
  await waitForMeetingState(guest.page, 'prejoin');
  await guest.page.getByRole('textbox', { name: T.yourName, exact: true }).fill('Gus again');
  await guest.page.getByRole('button', { name: T.joinMeeting, exact: true }).click();
  await waitForMeetingState(guest.page, 'error');
  assert.match(await alertText(guest.page), /removed/);
});

test('screen sharing for hosts only: the button is disabled and a raw publish is refused', STEP, async () => {
  const panel = await openPanel(host.page, T.security, T.security);
  await panel.getByRole('checkbox', { name: 'Only hosts may share their screen', exact: true }).check();
  const page = late.page;
  await page.goto(server.url('/')); // a fresh page: the same address would only change the hash
  await page.goto(url);
  await joinMeeting(page, { name: 'Lena', expect: 'waiting' });
  await admitFromSecurityPanel(host.page, 'Lena');
  await waitForMeetingState(page, 'joined');
  const share = control(page, T.share);
  assert.ok((await share.getAttribute('disabled')) !== null || (await share.getAttribute('aria-disabled')) === 'true', 'Share is not disabled');
  // Skipping the UI: a WebSocket of its own from this page, admitted like anyone, then a
  // publish offer with a screen track.
  const pending = page.evaluate(async (href) => {
    const u = new URL(href);
    const ws = new WebSocket(`ws://${u.host}/ws`);
    const replies = new Map();
    ws.onmessage = (m) => {
      const msg = JSON.parse(m.data);
      if (msg.id !== undefined) replies.get(msg.id)?.(msg);
      if (msg.event === 'admitted') replies.get('admitted')?.(msg);
    };
    await new Promise((r) => (ws.onopen = r));
    const ask = (id, body) =>
      new Promise((resolve) => {
        replies.set(id, resolve);
        ws.send(JSON.stringify({ id, ...body }));
      });
    const admitted = new Promise((resolve) => replies.set('admitted', resolve));
    const join = await ask(1, { type: 'join', protocol: 1, meeting: u.pathname.slice(3), name: 'Raw', passcode: u.hash.slice(3) });
    if (join.result?.state === 'waiting') await admitted;
    const pc = new RTCPeerConnection();
    pc.addTransceiver('video', { direction: 'sendonly' });
    const offer = await pc.createOffer();
    const mid = /a=mid:(\S+)/.exec(offer.sdp)[1];
    const reply = await ask(2, { type: 'publish', sdp: offer.sdp, tracks: [{ mid, kind: 'video', source: 'screen', muted: false }] });
    pc.close();
    ws.close();
    return reply;
  }, url);
  await admitFromSecurityPanel(host.page, 'Raw');
  const reply = await pending;
  assert.equal(reply.error?.code, 'forbidden', JSON.stringify(reply));
});
