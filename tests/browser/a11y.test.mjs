// Accessibility of every main screen of the client (issue 5), checked by axe-core in a
// real Chromium: landing, pre-join, the meeting grid, the chat, participants and security
// panels, the keyboard-shortcuts and settings dialogs, and the page after leaving. Each
// screen is checked at 1280×800 and 390×844, in the light and the dark colour scheme
// (contrast has to hold in both); a screen passes when no variant has a violation of
// impact serious or critical. A failure lists rule, impact, help and every element.
//
// axe is injected as a script tag (tests/lib/ui.mjs, axeCheck), which the server's CSP
// refuses, so this browser's context bypasses CSP; ui.test.mjs checks the client with the
// CSP in force. A second participant (another tab) makes the grid, the participant list
// and the chat look like a real meeting.
//
// CTest runs this file inside tests/browser/netns.sh (loopback-only network namespace).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, ensureStopped } from '../lib/server.mjs';
import { createMeeting, meetingUrl } from '../lib/meetings.mjs';
import { launchChromium } from '../lib/browser.mjs';
import {
  T,
  UI_ARGS,
  VIEWPORTS,
  axeCheck,
  control,
  dialog,
  formatAxeViolations,
  joinMeeting,
  openPanel,
  closePanel,
  panel,
  sendChat,
  settle,
  tile,
  waitForMeetingState,
  waitForNewParticipant,
  participantIds,
} from '../lib/ui.mjs';

let MEETING_URL; // created in before(): waiting room off
const STEP = { timeout: 40000 };
const VARIANTS = [
  { size: 'desktop', colorScheme: 'light' },
  { size: 'desktop', colorScheme: 'dark' },
  { size: 'phone', colorScheme: 'light' },
  { size: 'phone', colorScheme: 'dark' },
];

let server;
let browser;
let page; // the person whose screens are checked
let other; // a second participant, in another tab

before(
  async () => {
    server = await startServer({ args: ['--meeting-create', 'anyone', '--auth-signup', 'open'] });
    MEETING_URL = await meetingUrl(server);
    browser = await launchChromium({
      timeoutMs: 8000,
      viewport: VIEWPORTS.desktop,
      colorScheme: 'light',
      bypassCSP: true, // for axe's script tag only (see the top of the file)
      extraArgs: UI_ARGS,
    });
    page = browser.page;
  },
  { timeout: 60000 },
);

after(async () => {
  await browser?.close().catch(() => {});
  await ensureStopped(server);
});

/**
 * Checks the screen as it is now in every variant and fails with all serious/critical
 * violations of all variants at once. `missing`: parts of the screen the contract promises
 * that were not there, reported together with the violations (the rest is still checked).
 */
async function checkScreen(screen, missing = []) {
  const report = [];
  try {
    for (const v of VARIANTS) {
      await page.setViewportSize(VIEWPORTS[v.size]);
      await page.emulateMedia({ colorScheme: v.colorScheme });
      await settle(page);
      const { width, height } = VIEWPORTS[v.size];
      const violations = await axeCheck(page);
      if (violations.length) report.push(formatAxeViolations(violations, `${screen} (${width}×${height}, ${v.colorScheme})`));
    }
  } finally {
    await page.setViewportSize(VIEWPORTS.desktop);
    await page.emulateMedia({ colorScheme: 'light' });
  }
  if (missing.length) report.push(`${screen}: not there, so not checked: ${missing.join('; ')}`);
  if (report.length) assert.fail(report.join('\n\n'));
}

/** Waits for the locators (together, briefly); returns the descriptions of those that did
 *  not come. */
async function lookFor(parts, timeout = 5000) {
  const found = await Promise.all(
    parts.map(([, locator]) =>
      locator
        .first()
        .waitFor({ timeout })
        .then(() => true, () => false),
    ),
  );
  return parts.filter((_, i) => !found[i]).map(([what]) => what);
}

test('landing page', STEP, async () => {
  await page.goto(server.url('/'));
  await page.getByRole('button', { name: T.newMeeting, exact: true }).waitFor();
  await checkScreen('landing page');
});

test('pre-join, with its camera preview, level meter and device choice', STEP, async () => {
  await page.goto(MEETING_URL);
  await waitForMeetingState(page, 'prejoin');
  await page.getByRole('button', { name: T.joinMeeting, exact: true }).waitFor();
  const missing = await lookFor([
    ['video[data-preview]', page.locator('video[data-preview]')],
    [`meter "${T.micLevel}"`, page.getByRole('meter', { name: T.micLevel, exact: true })],
    [`combobox "${T.camera}"`, page.getByRole('combobox', { name: T.camera, exact: true })],
    [`combobox "${T.microphone}"`, page.getByRole('combobox', { name: T.microphone, exact: true })],
    [`checkbox "${T.joinMicOff}"`, page.getByRole('checkbox', { name: T.joinMicOff, exact: true })],
    [`checkbox "${T.joinCameraOff}"`, page.getByRole('checkbox', { name: T.joinCameraOff, exact: true })],
  ]);
  await checkScreen('pre-join', missing);
});

test('in the meeting: the video grid with two people', STEP, async () => {
  await joinMeeting(page, { name: 'Amara' });
  const known = await participantIds(page);
  other = await browser.newPage();
  await joinMeeting(other, { name: 'Bo', url: MEETING_URL });
  const otherId = await waitForNewParticipant(page, known);
  await tile(page, otherId).waitFor();
  await control(page, T.leave).waitFor();
  await checkScreen('meeting grid');
});

test('chat panel open, with messages', STEP, async () => {
  // A message from the other person and one of our own, so that both kinds are checked.
  await openPanel(other, T.chat, T.chat);
  await sendChat(other, 'Morning! The agenda is in the invite.');
  await control(page, /^Chat(, \d+ unread)?$/).click();
  const region = panel(page, T.chat);
  await region.waitFor();
  await region.locator('[data-chat-message]').first().waitFor();
  await sendChat(page, 'Thanks, joining from the train.');
  await settle(page);
  try {
    await checkScreen('chat panel');
  } finally {
    await closePanel(page, T.chat, T.chat).catch(() => {});
  }
});

test('participants panel', STEP, async () => {
  const region = await openPanel(page, T.participants, T.participantsRegion(2));
  await region.locator('[data-participant-item]').nth(1).waitFor();
  try {
    await checkScreen('participants panel');
  } finally {
    await closePanel(page, T.participants, T.participantsRegion(2)).catch(() => {});
  }
});

test('security panel', STEP, async () => {
  const region = await openPanel(page, T.securityControl, T.security);
  await region.getByRole('button', { name: T.copyInvite, exact: true }).waitFor();
  try {
    await checkScreen('security panel');
  } finally {
    await closePanel(page, T.securityControl, T.security).catch(() => {});
  }
});

/** Opens a dialog from the control bar, checks it, and closes it with Escape (which a
 *  modal dialog must honour: a keyboard user has no other way out). */
async function checkDialog(name) {
  await control(page, name).click();
  const d = dialog(page, name);
  await d.waitFor();
  try {
    await checkScreen(`"${name}" dialog`);
  } finally {
    await page.keyboard.press('Escape');
  }
  await d.waitFor({ state: 'hidden' }).catch(() => assert.fail(`Escape does not close the "${name}" dialog`));
}

test('keyboard-shortcuts dialog', STEP, () => checkDialog(T.shortcuts));

test('settings dialog', STEP, () => checkDialog(T.settings));

test('the page after leaving', STEP, async () => {
  await control(page, T.leave).click();
  await page.waitForURL(server.url('/'));
  await page.getByText(T.leftStatus, { exact: true }).waitFor();
  await checkScreen('page after leaving');
});

// Meeting security (issue 7): the waiting room, a host's view, and the account pages.

test('waiting room', STEP, async () => {
  const m = await createMeeting(server.origin, {}); // default settings: nobody gets in without the host
  await page.goto(server.url('/'));
  await page.goto(server.url(`/m/${m.id}#p=${m.passcode}`));
  await joinMeeting(page, { name: 'Amara', expect: 'waiting' });
  await page.getByRole('heading', { name: 'Waiting to be let in' }).waitFor();
  try {
    await checkScreen('waiting room');
  } finally {
    await page.getByRole('button', { name: 'Leave waiting room', exact: true }).click();
  }
});

test('security panel and participant actions, as the host with someone waiting', STEP, async () => {
  const m = await createMeeting(server.origin, {});
  const url = server.url(`/m/${m.id}#p=${m.passcode}`);
  await page.goto(server.url('/'));
  await page.evaluate(([id, key]) => localStorage.setItem('conclave.hostKeys', JSON.stringify({ [id]: key })), [m.id, m.host_key]);
  await page.goto(url);
  await joinMeeting(page, { name: 'Amara' });
  // Bo's tab shares this browser's storage: without the host key he is a guest.
  await page.evaluate(() => localStorage.removeItem('conclave.hostKeys'));
  await joinMeeting(other, { name: 'Bo', url, expect: 'waiting' });
  const region = await openPanel(page, T.securityControl, T.security);
  await region.getByRole('button', { name: 'Admit Bo', exact: true }).waitFor();
  try {
    await checkScreen('security panel, host, someone waiting');
    await region.getByRole('button', { name: 'Admit Bo', exact: true }).click();
  } finally {
    await closePanel(page, T.securityControl, T.security).catch(() => {});
  }
  await waitForMeetingState(other, 'joined');
  const people = await openPanel(page, T.participants, T.participantsRegion(2));
  await people.getByLabel('Actions for Bo', { exact: true }).click();
  await people.getByRole('button', { name: 'Remove from meeting', exact: true }).waitFor();
  await checkScreen('participant actions, host');
  await people.getByLabel('Actions for Bo', { exact: true }).click(); // closes the menu
  await people.getByRole('button', { name: 'Change my name', exact: true }).click();
  const rename = dialog(page, 'Change my name');
  await rename.getByRole('textbox', { name: 'New name', exact: true }).waitFor();
  try {
    await checkScreen('"Change my name" dialog');
  } finally {
    await page.keyboard.press('Escape');
  }
  await rename.waitFor({ state: 'hidden' });
  await control(page, T.leave).click();
  await page.waitForURL(server.url('/'));
});

test('sign-in, sign-up and account pages', STEP, async () => {
  await page.goto(server.url('/signin'));
  await page.getByRole('heading', { name: 'Sign in', exact: true }).waitFor();
  await checkScreen('sign-in page');
  await page.goto(server.url('/signup'));
  await page.getByRole('heading', { name: 'Create an account', exact: true }).waitFor();
  await checkScreen('sign-up page');
  await page.getByRole('textbox', { name: 'Your name', exact: true }).fill('Amara');
  await page.getByRole('textbox', { name: 'Email', exact: true }).fill('amara@example.org');
  await page.getByLabel('Password', { exact: true }).fill('a long and good password');
  await page.getByRole('button', { name: 'Create account', exact: true }).click();
  await page.getByRole('link', { name: 'Your account', exact: true }).click();
  await page.getByRole('heading', { name: 'Your account', exact: true }).waitFor();
  await checkScreen('account page');
  // With a meeting of one's own: a new link is confirmed first, then shown with Copy.
  await page.goto(server.url('/'));
  await page.getByRole('button', { name: T.newMeeting, exact: true }).click();
  await waitForMeetingState(page, 'prejoin');
  const id = new URL(page.url()).pathname.slice(3);
  await page.goto(server.url('/account'));
  await page.getByRole('button', { name: `New link for ${id}`, exact: true }).click();
  const confirm = page.getByRole('dialog');
  await confirm.getByRole('button', { name: 'New link', exact: true }).waitFor();
  await checkScreen('account page, new link confirmation');
  await confirm.getByRole('button', { name: 'New link', exact: true }).click();
  await page.getByRole('button', { name: `Copy link for ${id}`, exact: true }).waitFor();
  await checkScreen('account page, with a new link');
});
