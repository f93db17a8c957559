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
  closePanel,
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
  // Without an account, New meeting leads to signing in, says why, and creating an account
  // from there opens the new meeting.
  await page.getByRole('button', { name: T.newMeeting, exact: true }).click();
  await page.waitForURL((u) => u.pathname === '/signin');
  await page.getByText(/only people with an account can start meetings/).waitFor();
  await page.getByRole('link', { name: 'Create account', exact: true }).click();
  await page.waitForURL((u) => u.pathname === '/signup');
  await page.getByRole('textbox', { name: 'Your name', exact: true }).fill('Hana Host');
  await page.getByRole('textbox', { name: 'Email', exact: true }).fill('hana@example.org');
  await page.getByLabel('Password', { exact: true }).fill('a long and good password');
  await page.getByRole('button', { name: 'Create account', exact: true }).click();
  await page.waitForURL((u) => /^\/m\/[0-9a-z-]{19}$/.test(u.pathname) && /^#p=[0-9a-z]{10}$/.test(u.hash));
  url = page.url();
  await joinMeeting(page, { name: 'Hana' });
  const panel = await openPanel(page, T.securityControl, T.security);
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
  await control(host.page, T.securityWaiting(1)).waitFor();
  await admitFromSecurityPanel(host.page, 'Gus');
  await waitForMeetingState(guest.page, 'joined');
  await guest.page.locator('[data-participant]').first().waitFor();
  await control(host.page, T.security).waitFor();
  // Role badges: the guest sees who the host is, on the tile and in the list.
  await guest.page.locator('[data-participant] .tile-role', { hasText: 'Host' }).first().waitFor();
});

test('renaming follows the setting: the guest renames, then the host turns it off', STEP, async () => {
  const people = await openPanel(guest.page, T.participants, 'Participants (2)');
  await people.getByRole('button', { name: 'Change my name', exact: true }).click();
  const d = guest.page.getByRole('dialog', { name: 'Change my name', exact: true });
  await d.getByRole('textbox', { name: 'New name', exact: true }).fill('Gus G');
  await d.getByRole('button', { name: 'Save name', exact: true }).click();
  await d.waitFor({ state: 'hidden' });
  const hostPeople = await openPanel(host.page, T.participants, 'Participants (2)');
  await hostPeople.getByText('Gus G', { exact: true }).waitFor();
  await closePanel(host.page, T.participants, 'Participants (2)');
  const panel = await openPanel(host.page, T.securityControl, T.security);
  await panel.getByRole('checkbox', { name: 'Participants may change their name', exact: true }).uncheck();
  await people.getByRole('button', { name: 'Change my name', exact: true }).waitFor({ state: 'detached' });
  await panel.getByRole('checkbox', { name: 'Participants may change their name', exact: true }).check();
  await closePanel(guest.page, T.participants, 'Participants (2)');
});

test('a link without its passcode: the pre-join asks for it, and a wrong one is refused plainly', STEP, async () => {
  const page = late.page;
  const bare = url.replace(/#.*$/, '');
  const passcode = new URL(url).hash.slice(3);
  await page.goto(bare);
  await waitForMeetingState(page, 'prejoin');
  await page.getByRole('textbox', { name: T.yourName, exact: true }).fill('Lena');
  await page.getByRole('textbox', { name: 'Meeting passcode', exact: true }).fill('0000000000');
  await page.getByRole('button', { name: T.joinMeeting, exact: true }).click();
  await page.getByText("This meeting doesn't exist or the link is incomplete. Ask the host for the full link.").waitFor();
  await page.getByRole('textbox', { name: 'Meeting passcode', exact: true }).fill(passcode);
  await page.getByRole('button', { name: T.joinMeeting, exact: true }).click();
  await waitForMeetingState(page, 'waiting');
  await page.getByRole('button', { name: 'Leave waiting room', exact: true }).click();
});

test('the host locks the meeting: a newcomer is told it is locked', STEP, async () => {
  const panel = await openPanel(host.page, T.securityControl, T.security);
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
  const panel = await openPanel(host.page, T.securityControl, T.security);
  await panel.getByRole('checkbox', { name: 'Only hosts may share their screen', exact: true }).check();
  const page = late.page;
  await page.goto(server.url('/')); // a fresh page: the same address would only change the hash
  await page.goto(url);
  await joinMeeting(page, { name: 'Lena', expect: 'waiting' });
  await admitFromSecurityPanel(host.page, 'Lena');
  await waitForMeetingState(page, 'joined');
  const share = control(page, T.share);
  assert.ok((await share.getAttribute('disabled')) !== null || (await share.getAttribute('aria-disabled')) === 'true', 'Share is not disabled');
  // Pressing it anyway says why, and shares nothing.
  await share.click({ force: true });
  await page.locator('[data-notice=share_blocked]').getByText('Only hosts can share their screen in this meeting.').waitFor();
  assert.equal(await page.locator('[data-source=screen]').count(), 0);
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

test('a host mute holds until the host asks; a stopped video and chat turned off are explained', STEP, async () => {
  const page = late.page; // Lena, a participant
  const settings = await openPanel(host.page, T.securityControl, T.security);
  await settings.getByRole('checkbox', { name: 'Participants may unmute themselves', exact: true }).uncheck();
  const people = await openPanel(host.page, T.participants, /^Participants \(\d\)$/);
  const actions = async (name) => {
    await people.getByLabel('Actions for Lena', { exact: true }).click();
    await people.getByRole('button', { name, exact: true }).click();
  };
  await actions('Mute');
  await page.locator('[data-notice=muted_by_host]').getByText('The host muted you. You can unmute when the host asks you to.').waitFor();
  await control(page, T.unmute).waitFor();
  // Unmuting by oneself is refused, and says why.
  await control(page, T.unmute).click();
  await page.locator('[data-notice=cannot_unmute]').waitFor();
  await control(page, T.unmute).waitFor();
  // The host asks: the prompt's Unmute works.
  await people.getByLabel('Actions for Lena', { exact: true }).click(); // close the menu
  await actions('Ask to unmute');
  const prompt = page.locator('[data-notice=unmute_requested]');
  await prompt.getByText('The host asks you to unmute.').waitFor();
  await prompt.getByRole('button', { name: 'Unmute', exact: true }).click();
  await control(page, T.mute).waitFor();
  await people.getByLabel('Actions for Lena', { exact: true }).click();
  await actions('Stop video');
  await page.locator('[data-notice=video_stopped]').getByText('The host stopped your video.').waitFor();
  await control(page, T.cameraOn).waitFor();
  // Chat off: the box is disabled and says why.
  const security = await openPanel(host.page, T.securityControl, T.security);
  await security.getByRole('checkbox', { name: 'Chat', exact: true }).uncheck();
  await page.locator('[data-notice=chat_off]').waitFor();
  const chat = await openPanel(page, T.chat, T.chat);
  assert.equal(await chat.getByRole('textbox', { name: T.message, exact: true }).isDisabled(), true);
  await chat.getByText('The host turned chat off.', { exact: true }).waitFor();
});

test('the host downloads their data and deletes their account from the account page', STEP, async () => {
  const page = host.page;
  await page.goto(server.url('/account'));
  await page.getByRole('heading', { name: 'Your data', exact: true }).waitFor();
  const exported = await page.evaluate(async (href) => (await fetch(href)).json(), server.url('/api/account/export'));
  assert.equal(exported.account.email, 'hana@example.org');
  assert.ok(exported.meetings.length >= 1, 'the meeting Hana created is not in her export');
  await page.getByRole('link', { name: 'Download my data', exact: true }).waitFor();
  await page.getByRole('button', { name: 'Delete my account', exact: true }).click();
  const dialog = page.getByRole('dialog');
  await dialog.getByLabel('Your password', { exact: true }).fill('a long and good password');
  await dialog.getByRole('button', { name: 'Delete my account', exact: true }).click();
  await page.waitForURL(server.url('/'));
  const session = await page.evaluate(async () => (await fetch('/api/session')).json());
  assert.equal(session.account, null);
  const again = await page.evaluate(
    async () =>
      (await fetch('/api/signin', {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ email: 'hana@example.org', password: 'a long and good password' }),
      })).status,
  );
  assert.equal(again, 401, 'the deleted account can still sign in');
});
