// End-to-end encryption in real browsers (issue 6, docs/e2ee.md), against the test server
// (build/conclave-test-server: the real server plus a malicious operator's hooks,
// tests/tools/test_hooks.cpp):
//  - three Chromium tabs see and hear each other, chat arrives, and all three show the
//    same security code; a fourth joins and the code changes for everyone; when it
//    leaves, every sender's key moves to a new epoch that the others hold;
//  - everything the server relays is sealed: no frame on any tab's WebSocket carries the
//    chat text or a readable chat/reaction/hand message;
//  - a ghost (a participant the server hides from every roster) is given no key and can
//    read nothing;
//  - a tap on the SFU shows forwarded video as ciphertext: after the clear prefix comes an
//    SFrame header naming a sender's key, then bytes as uniform as random data, while the
//    same tap on a meeting without E2EE (the owner's explicit choice, with its banner)
//    shows ordinary VP8.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, rmSync } from 'node:fs';
import { join as joinPath } from 'node:path';
import { createHash, generateKeyPairSync, sign, randomBytes } from 'node:crypto';
import { startServer, ensureStopped, sleep, tempDir, TEST_SERVER_BIN } from '../lib/server.mjs';
import { api, createMeeting, OPEN, joinMeeting, signUp } from '../lib/meetings.mjs';
import { launchChromium } from '../lib/browser.mjs';
import { keepPeerConnections, receiving, until } from '../lib/media.mjs';
import { T, UI_ARGS, openPanel, panel, sendChat } from '../lib/ui.mjs';

const STEP = { timeout: 120000 };
const GHOST = 'Ghost (hidden by the server)';

let server;
const browsers = [];
let tapDir;
let tapFile;
let meeting; // { id, passcode }
const people = []; // { name, page, frames: [{ dir, text }] }

function url(m) {
  return server.url(`/m/${m.id}#p=${m.passcode}`);
}

// Each person is a browser of their own (own profile, so own device identity key), as
// in life: tabs of one profile would share one identity.
async function join(name, m = meeting, { cookie, quiet = false, expect = 'joined', init } = {}) {
  const browser = await launchChromium({ timeoutMs: 15000, extraArgs: [...UI_ARGS] });
  browsers.push(browser);
  const page = browser.page;
  if (init) await page.addInitScript(init);
  if (cookie) {
    const [cname, value] = cookie.split('=');
    await page.context().addCookies([{ name: cname, value, url: server.origin }]);
  }
  await page.addInitScript(keepPeerConnections);
  const frames = [];
  page.on('websocket', (ws) => {
    ws.on('framesent', (f) => frames.push({ dir: 'sent', text: String(f.payload) }));
    ws.on('framereceived', (f) => frames.push({ dir: 'received', text: String(f.payload) }));
  });
  page.on('pageerror', (e) => console.log(`[${name}] page error: ${e.message}`));
  await page.goto(url(m));
  await page.getByLabel(T.yourName).fill(name);
  if (quiet) {
    await page.getByLabel(T.joinMicOff).check();
    await page.getByLabel(T.joinCameraOff).check();
  }
  await page.getByRole('button', { name: T.joinMeeting }).click();
  if (expect === 'joined') {
    await page.waitForFunction(() => document.body.dataset.meetingState === 'joined', null, { timeout: 20000 });
  }
  const who = { name, page, frames };
  return who;
}

/** What the Security panel shows: the code, our key id and epoch, and every key holder. */
async function security(page) {
  const region = await openPanel(page, T.securityControl, T.security);
  await region.locator('[data-e2ee-state="on"] [data-security-code]').waitFor({ timeout: 20000 });
  return page.evaluate(() => {
    const code = document.querySelector('[data-security-code]')?.dataset.securityCode ?? null;
    const self = document.querySelector('[data-key-holder="self"]');
    const holders = {};
    const trust = {};
    for (const li of document.querySelectorAll('[data-key-holder]:not([data-key-holder="self"])')) {
      holders[li.dataset.keyHolder] = li.dataset.epoch === undefined ? null : Number(li.dataset.epoch);
      trust[li.dataset.keyHolder] = li.querySelector('[data-trust]')?.dataset.trust;
    }
    const keyless = [...document.querySelectorAll('[data-no-key]')].map((li) => li.dataset.noKey);
    return { code, trust, id: self?.dataset.participantId, epoch: Number(self?.dataset.epoch), keyId: Number(self?.dataset.keyId), holders, keyless };
  });
}

async function everyoneDecodes(list, others) {
  for (const p of list) {
    await until(`${p.name} decodes ${others} videos and hears ${others}`, async () => {
      const d = await receiving(p.page);
      return { ok: d.videos >= others && d.audios >= others, ...d };
    }, 45000);
  }
}

async function sameCode(list, holders) {
  return until(`${list.map((p) => p.name).join(', ')} show one code over ${holders} key holders`, async () => {
    const s = await Promise.all(list.map((p) => security(p.page)));
    const codes = new Set(s.map((x) => x.code));
    const ok = codes.size === 1 && s.every((x) => Object.keys(x.holders).length === holders && x.keyless.length === 0);
    return { ok, code: s[0].code, s };
  }, 30000);
}

before(async () => {
  assert.ok(TEST_SERVER_BIN, 'TEST_CONCLAVE_TEST_SERVER_BIN names build/conclave-test-server (set by CTest)');
  tapDir = tempDir('conclave-tap-');
  tapFile = joinPath(tapDir, 'forwarded.bin');
  server = await startServer({
    bin: TEST_SERVER_BIN,
    args: ['--meeting-create', 'anyone', '--auth-signup', 'open'],
    env: { TESTHOOK_TAP_FILE: tapFile, TESTHOOK_GHOST_NAME: GHOST },
  });
});

after(async () => {
  await Promise.all(browsers.map((b) => b.close()));
  await ensureStopped(server);
  if (tapDir) rmSync(tapDir, { recursive: true, force: true });
});

const participantIdsOf = (page) =>
  page.evaluate(() => [...new Set([...document.querySelectorAll('[data-participant]')].map((e) => e.dataset.participant))]);
const spySelf = (page) => page.evaluate(() => document.querySelector('[data-key-holder="self"]')?.dataset.participantId ?? null);

// ---------------------------------------------------------------- the SFU tap

let tapFrom = 0; // the E2EE meeting's packets start here

function tapRecords(from = 0) {
  let buf;
  try {
    buf = readFileSync(tapFile).subarray(from);
  } catch {
    return [];
  }
  const out = [];
  for (let at = 0; at + 7 <= buf.length; ) {
    const ssrc = buf.readUInt32BE(at);
    const marker = buf[at + 4] === 1;
    const len = buf.readUInt16BE(at + 5);
    out.push({ ssrc, marker, payload: buf.subarray(at + 7, at + 7 + len) });
    at += 7 + len;
  }
  return out;
}

/** RFC 7741 §4.2: the VP8 payload descriptor's length, and whether this packet starts a
 *  frame (S=1, PID=0). */
function vp8Descriptor(p) {
  let n = 1;
  const start = (p[0] & 0x10) !== 0 && (p[0] & 0x07) === 0;
  if (p[0] & 0x80) {
    const x = p[1];
    n = 2;
    if (x & 0x80) n += p[n] & 0x80 ? 2 : 1; // I: PictureID, 7 or 15 bits
    if (x & 0x40) n += 1; // L: TL0PICIDX
    if (x & 0x30) n += 1; // T or K
  }
  return { size: n, start };
}

/** SFrame header (RFC 9605 §4.3): { kid, ctr, size } or null. */
function sframeHeader(b) {
  if (b.length < 1) return null;
  const read = (at, n) => {
    if (b.length < at + n) return null;
    let v = 0n;
    for (let i = 0; i < n; i++) v = (v << 8n) | BigInt(b[at + i]);
    return v;
  };
  let at = 1;
  const first = b[0];
  let kid = BigInt((first >> 4) & 7);
  if (first & 0x80) {
    const n = ((first >> 4) & 7) + 1;
    kid = read(at, n);
    at += n;
  }
  let ctr = BigInt(first & 7);
  if (first & 0x08) {
    const n = (first & 7) + 1;
    ctr = read(at, n);
    at += n;
  }
  return kid === null || ctr === null ? null : { kid, ctr, size: at };
}

/** Frame starts and the bytes after the clear prefix (and, with E2EE, the SFrame header). */
function analyse(records, { e2ee }) {
  const hist = new Array(256).fill(0);
  let bytes = 0;
  const kids = new Map();
  let starts = 0;
  let keyFrames = 0;
  // One packet goes to every subscriber (and again when retransmitted): count each once,
  // or the duplicates alone would make the histogram look non-random.
  const seen = new Set();
  for (const r of records) {
    const digest = createHash('sha256').update(r.payload).digest('base64');
    if (seen.has(digest)) continue;
    seen.add(digest);
    const d = vp8Descriptor(r.payload);
    let body = r.payload.subarray(d.size);
    if (d.start && body.length > 0) {
      starts++;
      const key = (body[0] & 1) === 0;
      if (key) keyFrames++;
      body = body.subarray(key ? 10 : 3);
      if (e2ee) {
        const h = sframeHeader(body);
        if (h) {
          const keyId = Number(h.kid >> 16n);
          kids.set(keyId, (kids.get(keyId) ?? 0) + 1);
          body = body.subarray(h.size);
        }
      }
    }
    for (const b of body) hist[b]++;
    bytes += body.length;
  }
  // Pearson's chi-square against the uniform distribution (255 degrees of freedom: about
  // 255 ± 23 for random bytes).
  const expected = bytes / 256;
  const chi2 = hist.reduce((s, n) => s + (n - expected) ** 2 / expected, 0);
  const skew = hist
    .map((n, b) => ({ b, dev: Math.round((n - expected) / Math.sqrt(expected)) }))
    .sort((x, y) => Math.abs(y.dev) - Math.abs(x.dev))
    .slice(0, 6)
    .map((x) => `0x${x.b.toString(16)}:${x.dev}σ`)
    .join(' ');
  return { records: records.length, distinct: seen.size, starts, keyFrames, bytes, chi2: Math.round(chi2), skew, kids };
}

// ---------------------------------------------------------------- the tests

test('a meeting without E2EE is the owner’s explicit choice: a banner says so, and the SFU sees plain VP8', STEP, async () => {
  const plain = await createMeeting(server.origin, { settings: { ...OPEN, e2ee: false } });
  const a = await join('Plain A', plain);
  const b = await join('Plain B', plain);
  for (const p of [a, b]) {
    await p.page.locator('[data-e2ee-banner="off"]').waitFor();
    const region = await openPanel(p.page, T.securityControl, T.security);
    await region.locator('[data-e2ee-state="off"]').waitFor();
  }
  await everyoneDecodes([a, b], 1);
  await sleep(2000);
  const stats = analyse(tapRecords(), { e2ee: false });
  console.log('tap without E2EE:', JSON.stringify({ ...stats, kids: undefined }));
  assert.ok(stats.bytes > 50000, `the tap saw ${stats.bytes} bytes of video`);
  // Compressed VP8 is far from uniform bytes: the control for the E2EE measurement below.
  assert.ok(stats.chi2 > 1000, `plain VP8 bytes look random (chi-square ${stats.chi2})`);
  for (const p of [a, b]) await p.page.close();
  await sleep(500);
  tapFrom = readFileSync(tapFile).length; // the E2EE meeting's packets only, from here on
});

test('three participants see and hear each other and show the same security code', STEP, async () => {
  meeting = await createMeeting(server.origin, { settings: OPEN });
  people.push(await join('Ada'));
  people.push(await join('Grace'));
  people.push(await join('Hedy'));
  await everyoneDecodes(people, 2);
  const { code } = await sameCode(people, 2);
  assert.match(code, /^\d{5}( \d{5}){5}$/);
  for (const p of people) {
    assert.equal(await p.page.locator('[data-e2ee]').count(), 0, `${p.name}: a tile says it cannot decrypt`);
  }
});

test('chat and reactions arrive, and the server relays only sealed messages', STEP, async () => {
  const [ada, grace, hedy] = people;
  const secret = `the agenda is ${randomBytes(6).toString('hex')}`;
  await openPanel(ada.page, T.chat, T.chat);
  await sendChat(ada.page, secret);
  for (const p of [grace, hedy]) {
    await openPanel(p.page, /^Chat(, \d+ unread)?$/, T.chat);
    await panel(p.page, T.chat).locator('[data-chat-message]', { hasText: secret }).waitFor({ timeout: 15000 });
  }
  await hedy.page.getByRole('button', { name: T.raiseHand, exact: true }).click();
  await ada.page.locator('[data-hand="raised"]').first().waitFor({ timeout: 15000 });

  for (const p of people) {
    const frames = p.frames.map((f) => f.text);
    assert.ok(frames.length > 10, `${p.name}: WebSocket frames were recorded`);
    assert.ok(!frames.some((t) => t.includes(secret)), `${p.name}: the chat text crossed the server in the clear`);
    for (const text of frames) {
      let m;
      try {
        m = JSON.parse(text);
      } catch {
        continue;
      }
      const blobs = m.type === 'relay' ? (m.each ? Object.values(m.each) : [m.data]) : m.event === 'relay' ? [m.data] : [];
      for (const data of blobs) {
        assert.equal(data?.t, 'conclave-e2ee/1', `${p.name}: a relay that is not E2EE: ${text.slice(0, 200)}`);
        assert.ok(['hello', 'key', 'msg', 'dm'].includes(data.kind), `unknown kind ${data.kind}`);
        assert.ok(!('text' in data) && !('emoji' in data) && !('raised' in data), `${p.name}: readable content in ${text.slice(0, 200)}`);
      }
    }
  }
});

test('a fourth joins: the code changes for everyone, and the newcomer decodes and is decoded', STEP, async () => {
  const before3 = (await security(people[0].page)).code;
  people.push(await join('Lin'));
  await everyoneDecodes(people, 3);
  const { code } = await sameCode(people, 3);
  assert.notEqual(code, before3, 'the code did not change when Lin joined');
});

test('a ghost the server hides from every roster gets no key and reads nothing', STEP, async () => {
  const ghost = await joinMeeting(server.origin, meeting, GHOST);
  // It plays along: a well-formed, signed hello of its own, to everyone.
  const identity = generateKeyPairSync('ed25519');
  const session = generateKeyPairSync('x25519');
  const idPub = Buffer.from(identity.publicKey.export({ format: 'jwk' }).x, 'base64url');
  const sessPub = Buffer.from(session.publicKey.export({ format: 'jwk' }).x, 'base64url');
  const keyId = 0x600d600d;
  const kid = Buffer.alloc(4);
  kid.writeUInt32BE(keyId);
  const transcript = Buffer.concat([Buffer.from('conclave e2ee v1 hello'), Buffer.from(meeting.id), Buffer.from(ghost.me.id), sessPub, kid]);
  const hello = {
    t: 'conclave-e2ee/1',
    kind: 'hello',
    identity: idPub.toString('base64url'),
    session: sessPub.toString('base64url'),
    key_id: keyId,
    sig: sign(null, transcript, identity.privateKey).toString('base64url'),
  };
  await ghost.request('relay', { to: null, data: hello });
  const secret = `only for the four of us ${randomBytes(6).toString('hex')}`;
  for (const p of people) await openPanel(p.page, /^Chat(, \d+ unread)?$/, T.chat);
  await sendChat(people[1].page, secret);
  await panel(people[0].page, T.chat).locator('[data-chat-message]', { hasText: secret }).waitFor({ timeout: 15000 });
  await sleep(3000);

  const relays = ghost.events.filter((e) => e.event === 'relay');
  assert.ok(!ghost.events.some((e) => e.event === 'participant_joined' && e.participant?.name === GHOST));
  const kinds = relays.map((r) => r.data?.kind);
  assert.ok(kinds.includes('msg'), `the ghost received the sealed chat (kinds: ${kinds})`);
  assert.ok(!kinds.includes('key') && !kinds.includes('dm'), `the ghost was given something sealed for it: ${kinds}`);
  assert.ok(!relays.some((r) => JSON.stringify(r).includes(secret)), 'the ghost read the chat');
  for (const p of people) {
    const s = await security(p.page);
    assert.equal(Object.keys(s.holders).length, 3, `${p.name} lists ${Object.keys(s.holders).length} key holders`);
    assert.ok(!(ghost.me.id in s.holders), `${p.name} gave the ghost its key`);
  }
  ghost.close();

  // A ghost with the real client (camera and microphone off, so that it only listens):
  // it receives everyone's media and can decode none of it, and its tiles say why.
  const spy = await join(GHOST, meeting, { quiet: true });
  await spy.page.locator('[data-e2ee="no_key"]').first().waitFor({ timeout: 30000 });
  await spy.page.getByText('Waiting for encryption key').first().waitFor();
  const seen = await receiving(spy.page, 2000);
  assert.equal(seen.videos, 0, `the ghost decoded ${seen.videos} videos`);
  const bytes = await spy.page.evaluate(async () => {
    let n = 0;
    for (const pc of window.__pcs) (await pc.getStats()).forEach((r) => r.type === 'inbound-rtp' && r.kind === 'video' && (n += r.bytesReceived));
    return n;
  });
  assert.ok(bytes > 10000, `the ghost received ${bytes} bytes of video: the test would prove nothing`);
  for (const p of people) {
    assert.ok(!(await participantIdsOf(p.page)).includes(await spySelf(spy.page)), `${p.name} sees the ghost`);
    const s = await security(p.page);
    assert.equal(Object.keys(s.holders).length, 3);
  }
  await spy.page.close();
});

test('a leaver’s keys are replaced: every sender moves to a new epoch that the others hold', STEP, async () => {
  const lin = people.pop();
  const before = await Promise.all(people.map((p) => security(p.page)));
  await lin.page.getByRole('button', { name: T.leave, exact: true }).click();
  await lin.page.close();
  await until('every sender has a new epoch, held by the others', async () => {
    const s = await Promise.all(people.map((p) => security(p.page)));
    const moved = s.every((x, i) => x.epoch > before[i].epoch);
    // What each of the others holds of my key is my new epoch.
    const held = s.every((x) => s.every((y) => y === x || y.holders[x.id] === x.epoch));
    return { ok: moved && held && s.every((x) => Object.keys(x.holders).length === 2), s };
  }, 30000);
  await everyoneDecodes(people, 2);
  await sameCode(people, 2);
});

test('the SFU forwards only ciphertext: an SFrame header naming a sender, then random-looking bytes', STEP, async () => {
  const s = await Promise.all(people.map((p) => security(p.page)));
  const keyIds = new Set(s.map((x) => x.keyId));
  const stats = analyse(tapRecords(tapFrom), { e2ee: true });
  console.log('tap with E2EE:', JSON.stringify({ ...stats, kids: Object.fromEntries(stats.kids) }));
  assert.ok(stats.bytes > 200000, `the tap saw ${stats.bytes} bytes of video`);
  assert.ok(stats.starts > 100 && stats.keyFrames > 0, `frames seen: ${stats.starts}, key frames ${stats.keyFrames}`);
  // Every frame start carries an SFrame header whose KID names a sender's key (Lin's too,
  // who has left: its key id is one the test never read, so count the known ones).
  const known = [...stats.kids].filter(([k]) => keyIds.has(k)).reduce((n, [, c]) => n + c, 0);
  const all = [...stats.kids.values()].reduce((n, c) => n + c, 0);
  assert.equal(all, stats.starts, 'a frame start without an SFrame header');
  assert.ok(known > 0.5 * all, `only ${known} of ${all} frames name a present sender's key`);
  assert.ok(stats.kids.size <= 4, `frames name ${stats.kids.size} different keys for 4 senders`);
  // The rest is as uniform as random data (chi-square over 255 degrees of freedom; 330 is
  // the 0.01 % critical value).
  assert.ok(stats.chi2 < 330, `the bytes after the clear prefix are not uniform: chi-square ${stats.chi2}`);
});

test('trust on first use: a signed-in person’s device is pinned, and a new device is announced loudly', STEP, async () => {
  const [, grace] = people;
  const account = await signUp(server.origin, { email: `kim-${randomBytes(4).toString('hex')}@example.org`, name: 'Kim' });
  const kim = await join('Kim', meeting, { cookie: account.cookie });
  const kimId = (await security(kim.page)).id;
  await until('Grace pins Kim’s first device', async () => {
    const s = await security(grace.page);
    return { ok: s.trust[kimId] === 'first', s };
  });
  assert.equal(await grace.page.locator('[data-key-changed]').count(), 0);
  // Kim's browser published its identity key as a device of the account.
  const devices = await until('Kim’s device is published', async () => {
    const r = await api(server.origin, 'GET', '/api/devices', { cookie: account.cookie });
    return { ok: r.body?.devices?.length === 1, r: r.body };
  });
  assert.equal(devices.r.devices.length, 1);
  await kim.page.getByRole('button', { name: T.leave, exact: true }).click();
  await kim.page.close();

  // Kim again, from another browser (a new identity key): Grace is told, loudly.
  const kim2 = await join('Kim', meeting, { cookie: account.cookie });
  const kim2Id = (await security(kim2.page)).id;
  await until('Grace sees that Kim’s key changed', async () => {
    const s = await security(grace.page);
    return { ok: s.trust[kim2Id] === 'changed', s };
  });
  const banner = grace.page.locator(`[data-key-changed="${kim2Id}"]`);
  await banner.waitFor();
  assert.match(await banner.innerText(), /Kim’s security key changed/);
  await banner.getByRole('button').click();
  await until('after checking, Grace trusts the new key', async () => {
    const s = await security(grace.page);
    return { ok: s.trust[kim2Id] === 'pinned', s };
  });
  assert.equal(await grace.page.locator('[data-key-changed]').count(), 0);
  await kim2.page.getByRole('button', { name: T.leave, exact: true }).click();
  await kim2.page.close();
});

test('a browser without encoded transforms is told plainly and never joins unencrypted', STEP, async () => {
  const old = await join('Old browser', meeting, {
    expect: 'ended',
    init: () => {
      delete window.RTCRtpScriptTransform;
      delete RTCRtpSender.prototype.createEncodedStreams;
      delete RTCRtpReceiver.prototype.createEncodedStreams;
    },
  });
  await old.page.waitForFunction(() => document.body.dataset.meetingEnded === 'e2ee_unsupported', null, { timeout: 20000 });
  await old.page.getByText('cannot encrypt media end to end').waitFor();
  // It published nothing before it left: the others never received a frame from it.
  const s = await security(people[0].page);
  assert.equal(Object.keys(s.holders).length, 2);
  await old.page.close();
});
