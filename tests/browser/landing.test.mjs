// The landing page in a real Chromium, as a person uses it (start, join by link or ID,
// keyboard only) and as a privacy-minded admin checks it (no request to any other origin,
// no meeting secret on the wire, a clean console, CSP in force). The tests run in order
// on one server and one browser; the last ones look back over everything recorded.
//
// The browser talks to the server through a wire tap (tests/lib/browser.mjs), so "the
// server never received the fragment" is checked on the bytes it was actually sent.
// CTest runs this file inside tests/browser/netns.sh (loopback-only network namespace).
// Screenshots go to $TEST_ARTIFACTS (default build/test-artifacts): landing-*.png and
// meeting-*.png (light, dark, narrow, with the alert), for a person to look at.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { networkInterfaces } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startServer, ensureStopped } from '../lib/server.mjs';
import { launchChromium, recordActivity, startWireTap } from '../lib/browser.mjs';

const ARTIFACTS =
  process.env.TEST_ARTIFACTS ?? fileURLToPath(new URL('../../build/test-artifacts', import.meta.url));

const ID = 'kfx7-mq2d-9tbe';
const FRAGMENT = 'pc=secret';
const SECRET = 'secret';

// The texts of web/src/strings.ts that the tests look for.
const T = {
  appName: 'Conclave',
  startTitle: 'Start a meeting',
  startButton: 'New meeting',
  joinTitle: 'Join a meeting',
  joinLabel: 'Meeting link or ID',
  joinButton: 'Join',
  joinInvalid: 'That does not look like a Conclave meeting link or ID.',
  joinEmpty: 'Enter a meeting link or ID first.',
  meetingTitle: `Meeting ${ID}`,
  nameLabel: 'Your name',
  joinMeeting: 'Join meeting',
  backHome: 'Back to the start page',
};

// Console messages that are expected (none today): every other one fails the run.
const KNOWN_CONSOLE = [];

const STEP = { timeout: 30000 };

let server; // the conclave process
let tap; // what the browser connects to; relays to the server and keeps the bytes
let browser;
let rec;
let page;
const site = (path = '') => tap.origin + path;

before(
  async () => {
    mkdirSync(ARTIFACTS, { recursive: true });
    // so the log check sees all; guests may create meetings ("New meeting" without an account)
    server = await startServer({ args: ['--log-level', 'debug', '--meeting-create', 'anyone'] });
    tap = await startWireTap(server.origin);
    browser = await launchChromium({ viewport: { width: 1280, height: 800 }, colorScheme: 'light' });
    rec = await recordActivity(browser.context, { allowConsole: KNOWN_CONSOLE });
    page = browser.page;
  },
  { timeout: 60000 },
);

after(async () => {
  await browser?.close().catch(() => {});
  await tap?.close();
  await ensureStopped(server);
});

const heading = (name, level = 1) => page.getByRole('heading', { level, name, exact: true });
const joinInput = () => page.getByRole('textbox', { name: T.joinLabel, exact: true });
const joinButton = () => page.getByRole('button', { name: T.joinButton, exact: true });
const alert = () => page.getByRole('alert');
const focusedId = () => page.evaluate(() => document.activeElement?.id ?? '');
const shot = (name) => page.screenshot({ path: join(ARTIFACTS, `${name}.png`), fullPage: true });

/** The CSS colour of the page background, to tell the light theme from the dark one. */
const background = () => page.evaluate(() => getComputedStyle(document.body).backgroundColor);
const LIGHT_BG = 'rgb(246, 247, 245)';
const DARK_BG = 'rgb(18, 21, 20)';

const outsideNetns = !process.env.TEST_NETNS && 'not started by tests/browser/netns.sh';
test('runs inside a loopback-only network namespace', { skip: outsideNetns }, () => {
  assert.deepEqual(Object.keys(networkInterfaces()), ['lo'], 'an interface besides loopback');
});

test('the landing page renders with its heading, both sections and a labelled input', STEP, async () => {
  const res = await page.goto(site('/'));
  assert.equal(res.status(), 200);
  const h = await res.allHeaders();
  assert.match(h['content-type'], /^text\/html/);
  assert.match(h['content-security-policy'] ?? '', /default-src 'self'/, 'no CSP on the document');
  assert.doesNotMatch(h['content-security-policy'], /unsafe-inline|unsafe-eval|https?:|\*/);
  assert.equal(h['x-content-type-options'], 'nosniff');
  assert.equal(h['referrer-policy'], 'no-referrer');

  await heading(T.appName).waitFor();
  assert.equal(await page.title(), T.appName);
  assert.equal(await page.evaluate(() => document.documentElement.lang), 'en');
  assert.equal(await page.evaluate(() => document.referrer), '');

  const start = page.getByRole('region', { name: T.startTitle, exact: true });
  await start.getByRole('heading', { level: 2, name: T.startTitle }).waitFor();
  await start.getByRole('button', { name: T.startButton, exact: true }).waitFor();

  const joinRegion = page.getByRole('region', { name: T.joinTitle, exact: true });
  await joinRegion.getByRole('heading', { level: 2, name: T.joinTitle }).waitFor();
  await joinRegion.getByRole('textbox', { name: T.joinLabel, exact: true }).waitFor();
  await joinRegion.getByRole('button', { name: T.joinButton, exact: true }).waitFor();
  // getByLabel finds it through the <label>, as a screen reader does.
  assert.equal(await page.getByLabel(T.joinLabel, { exact: true }).getAttribute('id'), 'join-input');

  assert.equal(await background(), LIGHT_BG);
  await shot('landing-light');
});

test('the landing page follows a dark system theme and fits a phone screen', STEP, async () => {
  await page.emulateMedia({ colorScheme: 'dark' });
  try {
    assert.equal(await background(), DARK_BG, 'the dark theme did not apply');
    await shot('landing-dark');
  } finally {
    await page.emulateMedia({ colorScheme: 'light' });
  }
  assert.equal(await background(), LIGHT_BG);

  await page.setViewportSize({ width: 360, height: 740 });
  try {
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - innerWidth);
    assert.ok(overflow <= 0, `the page is ${overflow} px wider than a 360 px screen`);
    await shot('landing-narrow');
  } finally {
    await page.setViewportSize({ width: 1280, height: 800 });
  }
});

test('joining with an empty field shows an alert and puts the focus back in the field', STEP, async () => {
  await joinButton().click();
  await alert().waitFor();
  assert.equal(await alert().textContent(), T.joinEmpty);
  assert.equal(await focusedId(), 'join-input');
  assert.equal(await joinInput().getAttribute('aria-invalid'), 'true');
  assert.match(await joinInput().getAttribute('aria-describedby'), /\bjoin-error\b/);
  assert.equal(page.url(), site('/'));
});

test('something that is not a meeting link or ID is refused', STEP, async () => {
  await joinInput().fill('not a meeting!');
  await alert().waitFor({ state: 'detached' }); // typing clears the previous error
  await joinButton().click();
  await alert().waitFor();
  assert.equal(await alert().textContent(), T.joinInvalid);
  assert.equal(await focusedId(), 'join-input');
  assert.equal(page.url(), site('/'));
  await shot('landing-alert');
});

// The alert once came out in the muted grey of the help text, touching the field, because
// `.card p` was more specific than `.error`.
test('the alert is in the error colour, apart from the field', STEP, async () => {
  await alert().waitFor();
  const style = await alert().evaluate((el) => {
    const probe = document.createElement('span');
    probe.style.color = 'var(--error)'; // CSSOM, which CSP allows
    el.parentElement.append(probe);
    const expected = getComputedStyle(probe).color;
    probe.remove();
    return { color: getComputedStyle(el).color, expected, marginTop: getComputedStyle(el).marginTop };
  });
  assert.equal(style.color, style.expected, 'the alert is not in the error colour');
  assert.notEqual(style.marginTop, '0px', 'the alert touches the field');
});

test('a link to another server is refused and nothing is sent there', STEP, async () => {
  const loads = rec.documentLoads();
  const requests = rec.requests.length;
  const foreign = [
    'https://elsewhere.example/m/abc-def',
    `https://elsewhere.example/m/${ID}#${FRAGMENT}`,
    `http://127.0.0.1:1/m/${ID}`, // same host, another port: another origin
    `${site('/m/')}${ID}`.replace('http:', 'https:'), // same host and port, another scheme
    'javascript:alert(1)',
  ];
  for (const link of foreign) {
    await joinInput().fill(link);
    await alert().waitFor({ state: 'detached' });
    await joinInput().press('Enter');
    await alert().waitFor();
    assert.equal(await alert().textContent(), T.joinInvalid, link);
    assert.equal(page.url(), site('/'), `${link} was followed`);
  }
  assert.equal(rec.documentLoads(), loads);
  assert.deepEqual(rec.requests.slice(requests), [], 'refusing a link made requests');
  assert.deepEqual(rec.requestsContaining('elsewhere'), []);
});

test('a full link to this server opens the meeting, keeping the fragment', STEP, async () => {
  const loads = rec.documentLoads();
  await joinInput().fill(`${site('/m/')}${ID}#${FRAGMENT}`);
  await joinButton().click();
  await page.waitForURL(site(`/m/${ID}#${FRAGMENT}`));
  await heading(T.meetingTitle).waitFor();
  // The pre-join form: a labelled name field and the join button; nothing is connected
  // (no WebSocket, no camera) until the person presses it.
  await page.getByRole('textbox', { name: T.nameLabel, exact: true }).waitFor();
  await page.getByRole('button', { name: T.joinMeeting, exact: true }).waitFor();
  assert.equal(await page.evaluate(() => document.body.dataset.meetingState), 'prejoin');
  assert.deepEqual(rec.websockets, [], 'the meeting page connected before Join was pressed');
  assert.equal(await page.evaluate(() => location.hash), `#${FRAGMENT}`);
  assert.equal(rec.documentLoads(), loads, 'joining reloaded the page instead of routing in it');
  // Announced like a navigation: a new title, and focus on the new content.
  assert.equal(await page.title(), `Meeting ${ID} \u00b7 Conclave`);
  assert.equal(await focusedId(), 'main');
  await shot('meeting-light');
});

test('reloading a meeting address serves the client, and the fragment never reaches the server', STEP, async () => {
  const loads = rec.documentLoads();
  const res = await page.reload();
  assert.equal(res.status(), 200);
  assert.match(res.headers()['content-type'], /^text\/html/);
  assert.match(res.headers()['content-security-policy'] ?? '', /default-src 'self'/);
  await heading(T.meetingTitle).waitFor();
  assert.equal(await page.evaluate(() => location.hash), `#${FRAGMENT}`);
  assert.equal(rec.documentLoads(), loads + 1);
  assert.equal(rec.requests.findLast((r) => r.navigation).url, site(`/m/${ID}`));

  const lines = tap.requests().map((r) => r.line);
  assert.ok(lines.includes(`GET /m/${ID} HTTP/1.1`), 'the reload did not reach the server');
  assert.deepEqual(rec.requestsContaining(SECRET), [], 'a request URL carries the fragment');
  assert.ok(!tap.sent().includes(SECRET), 'the server was sent the fragment');

  await page.emulateMedia({ colorScheme: 'dark' });
  try {
    assert.equal(await background(), DARK_BG);
    await shot('meeting-dark');
  } finally {
    await page.emulateMedia({ colorScheme: 'light' });
  }
});

test('"Back to the start page" returns to / without reloading, and Back/Forward work', STEP, async () => {
  const loads = rec.documentLoads();
  await page.evaluate(() => (window.__sameDocument = true));
  await page.getByRole('link', { name: T.backHome, exact: true }).click();
  await page.waitForURL(site('/'));
  await heading(T.appName).waitFor();
  assert.equal(await page.evaluate(() => window.__sameDocument), true, 'the page was reloaded');

  await page.goBack();
  await heading(T.meetingTitle).waitFor();
  assert.equal(page.url(), site(`/m/${ID}#${FRAGMENT}`));
  await page.goForward();
  await heading(T.appName).waitFor();
  assert.equal(page.url(), site('/'));
  assert.equal(await page.evaluate(() => window.__sameDocument), true, 'Back/Forward reloaded the page');
  assert.equal(rec.documentLoads(), loads);
});

test('"New meeting" opens the pre-join of a fresh, unguessable meeting; /new does too', STEP, async () => {
  const loads = rec.documentLoads();
  // The server makes the id and the passcode; the passcode rides in the fragment.
  const idPattern = /\/m\/([0-9a-hjkmnp-tv-z]{4}(?:-[0-9a-hjkmnp-tv-z]{4}){3})#p=[0-9a-hjkmnp-tv-z]{10}$/;
  await page.getByRole('button', { name: T.startButton, exact: true }).click();
  await page.waitForURL(idPattern);
  const first = idPattern.exec(page.url())[1];
  await heading(`Meeting ${first}`).waitFor();
  await page.getByRole('button', { name: T.joinMeeting, exact: true }).waitFor();
  assert.equal(rec.documentLoads(), loads);

  // Typed or bookmarked, /new makes another meeting and is not left in history.
  const res = await page.goto(site('/new'));
  assert.equal(res.status(), 200);
  await page.waitForURL(idPattern);
  const second = idPattern.exec(page.url())[1];
  assert.notEqual(second, first);
  await heading(`Meeting ${second}`).waitFor();
  await page.goBack();
  await page.waitForURL((u) => u.pathname === `/m/${first}`);
});

test('keyboard only: Tab reaches New meeting, the field and Join in order; Enter joins by ID', STEP, async () => {
  await page.goto(site('/'));
  await heading(T.appName).waitFor();
  const stops = [];
  for (let i = 0; i < 8; i++) {
    await page.keyboard.press('Tab');
    const focused = page.locator(':focus');
    if ((await focused.count()) === 0) continue; // wrapped around to the document
    const [name] = (await focused.ariaSnapshot()).split('\n');
    const ring = await focused.evaluate((el) => getComputedStyle(el).outlineStyle);
    stops.push({ name, ring });
  }
  const names = stops.map((s) => s.name);
  const at = (n) => names.indexOf(n);
  const newMeeting = `- button "${T.startButton}"`;
  const field = `- textbox "${T.joinLabel}":`;
  const join = `- button "${T.joinButton}"`;
  for (const n of [newMeeting, field, join]) {
    assert.ok(at(n) >= 0, `Tab never reaches ${n}: ${names.join(', ')}`);
  }
  assert.ok(at(newMeeting) < at(field) && at(field) < at(join), `Tab order: ${names.join(', ')}`);
  for (const s of stops) {
    assert.doesNotMatch(s.name, /^- \w+$|""/, `a focusable element has no accessible name: ${s.name}`);
    assert.notEqual(s.ring, 'none', `no visible focus ring on ${s.name}`);
  }

  // Type the bare ID in capitals, as someone reading it aloud might, and press Enter.
  for (let i = 0; i < 8 && (await focusedId()) !== 'join-input'; i++) {
    await page.keyboard.press('Shift+Tab');
  }
  assert.equal(await focusedId(), 'join-input', 'Shift+Tab does not reach the field');
  await page.keyboard.type(ID.toUpperCase());
  await page.keyboard.press('Enter');
  await page.waitForURL(site(`/m/${ID}`));
  await heading(T.meetingTitle).waitFor();
});

test('a meeting address typed by hand follows the same rule as the join form', STEP, async () => {
  await page.goto(site(`/m/${ID.toUpperCase()}#${FRAGMENT}`));
  await heading(T.meetingTitle).waitFor();
  assert.equal(page.url(), site(`/m/${ID}#${FRAGMENT}`), 'the address is rewritten in lowercase');
  for (const bad of ['/m/a--b', '/m/-abc', '/m/abc-', '/m/ab']) {
    await page.goto(site(bad));
    await heading('Page not found').waitFor();
  }
  await page.goto(site('/'));
  await heading('Conclave').waitFor();
});

test('only the server was contacted, the console stayed clean and CSP blocked nothing', STEP, async () => {
  assert.ok(
    rec.requests.some((r) => r.url === site('/favicon.svg')),
    'the favicon request was not recorded, so the recorder misses requests',
  );
  assert.deepEqual(rec.foreignRequests(tap.origin), [], 'requests to another origin');
  assert.deepEqual(rec.cspConsoleMessages(), [], 'Content Security Policy messages');
  assert.deepEqual(rec.cspViolations, [], 'securitypolicyviolation events');
  assert.deepEqual(rec.problems(), [], 'console errors/warnings, page errors, failed requests');

  // What the server actually received: no fragment, no Referer, no cookie, and nothing the
  // recorder above did not see (so the browser made no request behind the page's back).
  assert.ok(!tap.sent().includes(SECRET), 'the meeting fragment reached the server');
  const wire = tap.requests();
  const header = (name) => wire.flatMap((r) => (r.headers[name] ?? []).map((v) => `${r.line}: ${v}`));
  assert.deepEqual(header('referer'), [], 'Referer headers were sent');
  assert.deepEqual(header('cookie'), [], 'cookies were sent');
  const seen = new Set(rec.requests.map((r) => r.url));
  const unseen = wire.filter((r) => !seen.has(site(r.target))).map((r) => r.line);
  assert.deepEqual(unseen, [], 'requests on the wire that the recorder did not see');
});

test('the server stops on SIGTERM with exit code 0', STEP, async () => {
  await browser.close();
  await tap.close();
  const timeout = new Promise((_, reject) =>
    setTimeout(() => reject(new Error('the server did not exit within 10 s of SIGTERM')), 10000).unref(),
  );
  const r = await Promise.race([server.stop('SIGTERM'), timeout]);
  assert.equal(r.signal, null, `killed by ${r.signal}`);
  assert.equal(r.code, 0, server.logs());
  assert.ok(!server.logs().includes(SECRET), 'the server logged the meeting fragment');
  assert.doesNotMatch(server.logs(), /^\S+ \S+ (error|critical) /m, server.logs());
});
