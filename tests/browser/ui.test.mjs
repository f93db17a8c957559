// The meeting client as two people use it (issue 5): one creates a meeting on the landing
// page and copies the invite link from the Security panel; another, in a separate browser
// (its own profile and context), opens that link and joins. Then each feature is checked
// from the other side: mute, chat, raised hand, screen share, leave. After every step,
// neither browser has contacted anything but the server and both consoles are clean.
//
// Everything is found by the names of the UI contract (tests/lib/ui.mjs, T).
//
// The steps run in order and build on each other, but a step that fails does not take
// the later ones down with it: if "New meeting" did not give a meeting, the host joins a
// meeting by address instead; if no invite link was copied, the guest uses the host's
// address (and that step still fails, after joining). So each failure names the feature
// that is missing, not the first one in the chain.
//
// CTest runs this file inside tests/browser/netns.sh (loopback-only network namespace).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { networkInterfaces } from 'node:os';
import { startServer, ensureStopped } from '../lib/server.mjs';
import { launchChromium, recordActivity, waitUntil } from '../lib/browser.mjs';
import { keepPeerConnections, receiving, until } from '../lib/media.mjs';
import {
  T,
  UI_ARGS,
  CLIPBOARD_PERMISSIONS,
  VIEWPORTS,
  assertClean,
  checkpoint,
  foreignRequests,
  control,
  admitFromSecurityPanel,
  createMeeting,
  joinMeeting,
  meetingIdOf,
  micOffMark,
  handMark,
  openPanel,
  panel,
  participantIds,
  participantItem,
  sendChat,
  stage,
  tile,
  waitForMeetingState,
  waitForNewParticipant,
} from '../lib/ui.mjs';

const STEP = { timeout: 30000 };
// Where the host goes when "New meeting" gives no meeting (see the top of the file).
const FALLBACK_ID = 'ui-flow-room';

let server;
let host; // launchChromium(): the person who creates the meeting
let guest; // a second launchChromium(): its own browser, profile and context
const recs = {}; // recordActivity() per browser
let marks; // checkpoint() per browser, taken at the start of each step

// Learnt along the way.
let createdUrl = null; // the pre-join address "New meeting" led to
let inviteLink = null; // what "Copy invite link" put on the clipboard
let hostId = null;
let guestId = null;

const browserOptions = {
  timeoutMs: 10000,
  viewport: VIEWPORTS.desktop,
  colorScheme: 'light',
  // "Copy invite link" writes the clipboard; the test reads it back.
  permissions: [...CLIPBOARD_PERMISSIONS],
  extraArgs: UI_ARGS,
};

before(
  async () => {
    server = await startServer({ args: ['--meeting-create', 'anyone'] });
    host = await launchChromium(browserOptions);
    guest = await launchChromium(browserOptions);
    for (const [who, b] of Object.entries({ host, guest })) {
      recs[who] = await recordActivity(b.context);
      // Test code, not the client's: lists the page's RTCPeerConnections for media stats.
      await b.context.addInitScript(keepPeerConnections);
    }
  },
  { timeout: 60000 },
);

after(async () => {
  await host?.close().catch(() => {});
  await guest?.close().catch(() => {});
  await ensureStopped(server);
});

/** Runs one step between two checkpoints: whatever it does, it must stay on the server's
 *  origin and keep both consoles clean. */
function step(name, fn) {
  test(name, STEP, async () => {
    marks = { host: checkpoint(recs.host), guest: checkpoint(recs.guest) };
    await fn();
    assertClean(server.origin, marks);
  });
}

const outsideNetns = !process.env.TEST_NETNS && 'not started by tests/browser/netns.sh';
test('runs inside a loopback-only network namespace', { skip: outsideNetns }, () => {
  assert.deepEqual(Object.keys(networkInterfaces()), ['lo'], 'an interface besides loopback');
});

step('"New meeting" on the landing page creates a meeting and opens its pre-join', async () => {
  const { url, id } = await createMeeting(host.page, server.origin);
  assert.ok(id, `"New meeting" led to ${url}, not to a meeting address`);
  await host.page.getByRole('textbox', { name: T.yourName, exact: true }).waitFor();
  await host.page.getByRole('button', { name: T.joinMeeting, exact: true }).waitFor();
  assert.deepEqual(recs.host.websockets, [], 'the pre-join connected before "Join meeting" was pressed');
  createdUrl = url;
});

step('the host joins from the pre-join under a name that is remembered', async () => {
  if (!createdUrl) await host.page.goto(server.url(`/m/${FALLBACK_ID}`));
  await joinMeeting(host.page, { name: 'Amara' });
  await stage(host.page).waitFor();
  await waitUntil(async () => (await participantIds(host.page)).length === 1, { what: 'the host’s own tile' });
  [hostId] = await participantIds(host.page);
  assert.equal(await host.page.evaluate(() => localStorage.getItem('conclave.name')), 'Amara');
});

step('the Security panel copies the invite link: this server, this meeting', async () => {
  const region = await openPanel(host.page, T.securityControl, T.security);
  const id = meetingIdOf(host.page.url());
  await region.getByText(id).first().waitFor();
  await region.getByRole('button', { name: T.copyInvite, exact: true }).click();
  const copied = await waitUntil(
    async () => {
      const text = await host.page.evaluate(() => navigator.clipboard.readText());
      return text.startsWith('http') ? text : null;
    },
    { what: 'a link on the clipboard' },
  );
  const link = new URL(copied);
  assert.equal(link.origin, server.origin, `the invite link ${copied} leads to another server`);
  assert.equal(link.pathname, `/m/${id}`, `the invite link ${copied} is not this meeting's`);
  // Whatever the fragment carries (a passcode, keys), the invitation must carry it too.
  assert.equal(link.hash, new URL(host.page.url()).hash, 'the invite link lost the fragment');
  inviteLink = copied;
});

step('a second browser opens the invite link, waits, is admitted; each sees and decodes the other', async () => {
  const known = await participantIds(host.page);
  await guest.page.goto(inviteLink ?? host.page.url());
  await waitForMeetingState(guest.page, 'prejoin');
  // The waiting room is on by default: the host lets Bo in from the Security panel.
  await joinMeeting(guest.page, { name: 'Bo', expect: 'waiting' });
  await guest.page.getByRole('heading', { name: 'Waiting to be let in' }).waitFor();
  await admitFromSecurityPanel(host.page, 'Bo');
  await waitForMeetingState(guest.page, 'joined');
  guestId = await waitForNewParticipant(host.page, known);
  await tile(guest.page, hostId).waitFor();
  for (const [who, b] of Object.entries({ host, guest })) {
    await until(`the ${who} decodes the other's video`, async () => {
      const r = await receiving(b.page);
      return { ok: r.videos >= 1 && r.audios >= 1, ...r };
    }, 20000);
  }
  assert.ok(inviteLink, 'joined by the host’s address: no invite link was copied (see the Security step)');
});

step('muting shows "Microphone off" on the other side’s tile, and unmuting clears it', async () => {
  const onGuest = tile(guest.page, hostId);
  await onGuest.waitFor();
  assert.equal(await micOffMark(onGuest).count(), 0, 'the host’s tile says "Microphone off" before muting');

  await control(host.page, T.mute).click();
  const unmute = control(host.page, T.unmute);
  await unmute.waitFor();
  assert.equal(await unmute.getAttribute('aria-pressed'), 'true');
  await micOffMark(onGuest).first().waitFor();

  await unmute.click();
  assert.equal(await control(host.page, T.mute).getAttribute('aria-pressed'), 'false');
  await micOffMark(onGuest).first().waitFor({ state: 'detached' });
});

step('switching the microphone in Settings replaces the sent track without renegotiating', async () => {
  // What the host's publish connection sends, and the offer it last negotiated.
  const sending = () =>
    host.page.evaluate(() => {
      for (const pc of window.__pcs) {
        if (pc.connectionState === 'closed') continue;
        const audio = pc.getSenders().find((s) => s.track?.kind === 'audio');
        if (audio) return { track: audio.track.id, label: audio.track.label, sdp: pc.localDescription?.sdp ?? '' };
      }
      return null;
    });
  const before = await sending();
  assert.ok(before, 'the host sends a microphone');
  await control(host.page, 'Settings').click();
  const dialog = host.page.getByRole('dialog', { name: 'Settings', exact: true });
  await dialog.waitFor();
  const select = dialog.getByRole('combobox', { name: 'Microphone', exact: true });
  const options = await select.locator('option').evaluateAll((os) => os.map((o) => ({ value: o.value, label: o.textContent })));
  const other = options.find((o) => o.value && o.label !== before.label);
  assert.ok(other, `a second microphone to choose from: ${JSON.stringify(options)}`);
  await select.selectOption(other.value);
  const after = await until('the new microphone in the sender', async () => {
    const now = await sending();
    return { ok: now && now.track !== before.track, ...now };
  }, 10000);
  assert.equal(after.sdp, before.sdp, 'the publish connection was renegotiated');
  await host.page.keyboard.press('Escape');
  await dialog.waitFor({ state: 'hidden' });
  // The guest still hears the host.
  await until('audio from the host after the switch', async () => {
    const r = await receiving(guest.page);
    return { ok: r.audios >= 1, ...r };
  }, 10000);
});

step('a chat message arrives on the other side as plain text, counted as unread until read', async () => {
  // A link and markup, which must arrive as the text typed: nothing fetched, nothing parsed.
  const first = 'Agenda: https://agenda.example/q3 <b>draft</b>';
  const region = await openPanel(host.page, T.chat, T.chat);
  await sendChat(host.page, first);
  await region.locator(`[data-chat-message][data-from="${hostId}"]`, { hasText: 'agenda.example' }).waitFor();
  assert.equal(
    await region.getByRole('textbox', { name: T.message, exact: true }).inputValue(),
    '',
    'the message box was not emptied after sending',
  );

  await control(guest.page, T.chatUnread(1)).waitFor();
  await control(guest.page, T.chatUnread(1)).click();
  const theirs = panel(guest.page, T.chat);
  await theirs.waitFor();
  const message = theirs.locator(`[data-chat-message][data-from="${hostId}"]`);
  await message.waitFor();
  assert.equal(await message.count(), 1);
  assert.ok((await message.innerText()).includes(first), `the message reads ${JSON.stringify(await message.innerText())}`);
  assert.equal(await message.locator('a, img, iframe, b').count(), 0, 'the message text was turned into markup');
  await control(guest.page, T.chat).waitFor(); // read: the unread count is gone

  // Shift+Enter is a new line in the same message; Enter sends it.
  const box = theirs.getByRole('textbox', { name: T.message, exact: true });
  await box.fill('Two lines:');
  await box.press('Shift+Enter');
  await box.pressSequentially('the second');
  assert.equal(await box.inputValue(), 'Two lines:\nthe second', 'Shift+Enter did not make a new line');
  await box.press('Enter');
  const reply = region.locator(`[data-chat-message][data-from="${guestId}"]`);
  await reply.waitFor();
  assert.match(await reply.innerText(), /Two lines:\s*\n\s*the second/);
});

step('keyboard shortcuts M and H work outside text fields, and not while typing', async () => {
  const onGuest = tile(guest.page, hostId);
  await host.page.evaluate(() => document.activeElement?.blur());
  await host.page.keyboard.press('m');
  await control(host.page, T.unmute).waitFor();
  await micOffMark(onGuest).first().waitFor();
  await host.page.keyboard.press('m');
  await control(host.page, T.mute).waitFor();
  await micOffMark(onGuest).first().waitFor({ state: 'detached' });

  await host.page.keyboard.press('h');
  await control(host.page, T.lowerHand).waitFor();
  await host.page.keyboard.press('h');
  await control(host.page, T.raiseHand).waitFor();

  // In the Message box the letters are text.
  const box = (await openPanel(host.page, T.chat, T.chat)).getByRole('textbox', { name: T.message, exact: true });
  await box.focus();
  await host.page.keyboard.type('mh');
  assert.equal(await box.inputValue(), 'mh');
  await box.fill('');
  assert.equal(await control(host.page, T.mute).count(), 1, 'typing "m" in the Message box muted the microphone');
  assert.equal(await control(host.page, T.raiseHand).count(), 1, 'typing "h" in the Message box raised the hand');
});

step('a raised hand shows in the other side’s participant list and tile, and lowering clears it', async () => {
  await control(host.page, T.raiseHand).click();
  const lower = control(host.page, T.lowerHand);
  await lower.waitFor();
  assert.equal(await lower.getAttribute('aria-pressed'), 'true');

  const list = await openPanel(guest.page, T.participants, T.participantsRegion(2));
  const row = list.locator(`[data-participant-item="${hostId}"]`);
  await list.locator(`[data-participant-item="${hostId}"][data-hand="raised"]`).waitFor();
  await handMark(row).first().waitFor();
  await guest.page.locator(`[data-participant="${hostId}"][data-source="camera"][data-hand="raised"]`).waitFor();
  assert.equal(await participantItem(guest.page, guestId).getAttribute('data-hand'), null, 'the guest’s own hand is shown raised');

  await lower.click();
  await control(host.page, T.raiseHand).waitFor();
  await list.locator(`[data-participant-item="${hostId}"][data-hand="raised"]`).waitFor({ state: 'detached' });
  await handMark(row).first().waitFor({ state: 'detached' });
});

step('a screen share is shown large on the other side, and goes when sharing stops', async () => {
  await control(guest.page, T.share).click();
  await control(guest.page, T.stopShare).waitFor();
  const share = tile(host.page, guestId, 'screen');
  await share.waitFor();
  await waitUntil(async () => (await share.getAttribute('data-layout-role')) === 'main', {
    timeoutMs: 10000,
    what: 'data-layout-role="main" on the shared screen',
  });
  await host.page.waitForFunction(
    (id) => document.querySelector(`[data-participant="${id}"][data-source="screen"] video`)?.videoWidth > 0,
    guestId,
    { timeout: 15000 },
  );
  // Large: the biggest tile on the stage, and at least half the stage wide.
  const sizes = await host.page.evaluate(() =>
    [...document.querySelectorAll('[data-participant][data-source]')].map((el) => {
      const r = el.getBoundingClientRect();
      return { source: el.dataset.source, role: el.dataset.layoutRole, area: r.width * r.height, width: r.width };
    }),
  );
  const stageBox = await stage(host.page).boundingBox();
  const main = sizes.find((s) => s.source === 'screen');
  const others = sizes.filter((s) => s !== main);
  assert.ok(others.every((s) => s.area < main.area), `the share is not the largest tile: ${JSON.stringify(sizes)}`);
  assert.ok(main.width >= stageBox.width / 2, `the share is ${main.width} px wide on a ${stageBox.width} px stage`);
  assert.ok(others.every((s) => s.role !== 'main'), `another tile is "main" too: ${JSON.stringify(sizes)}`);

  await control(guest.page, T.stopShare).click();
  await control(guest.page, T.share).waitFor();
  await share.waitFor({ state: 'detached' });
});

step('leaving returns to the landing page, which offers to rejoin; the other side sees them go', async () => {
  const meeting = new URL(guest.page.url()).pathname;
  await control(guest.page, T.leave).click();
  await guest.page.waitForURL(server.url('/'));
  await guest.page.getByRole('button', { name: T.newMeeting, exact: true }).waitFor();
  await guest.page.getByText(T.leftStatus, { exact: true }).waitFor();
  await tile(host.page, guestId).waitFor({ state: 'detached' });

  const rejoin = guest.page.getByRole('link', { name: T.rejoin, exact: true })
    .or(guest.page.getByRole('button', { name: T.rejoin, exact: true }));
  await rejoin.click();
  await guest.page.waitForURL((u) => u.pathname === meeting);
  await waitForMeetingState(guest.page, 'prejoin');
});

test('over the whole run: only the server was contacted, no console problems, no CSP violations', () => {
  for (const [who, rec] of Object.entries(recs)) {
    assert.deepEqual(foreignRequests(rec, server.origin), [], `${who}: requests to another origin`);
    assert.deepEqual(rec.requestsContaining('agenda.example'), [], `${who}: the link in the chat was fetched`);
    assert.deepEqual(rec.cspViolations, [], `${who}: securitypolicyviolation events`);
    assert.deepEqual(rec.problems(), [], `${who}: console errors/warnings, page errors, failed requests`);
  }
});
