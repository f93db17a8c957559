// A real Chromium against our WebRTC transport (transport issue, labels interop + rtc):
// the page offers a fake camera and microphone to POST /rtc/echo, the server completes
// ICE-lite, DTLS and SRTP, decrypts what arrives and sends it straight back, and the page
// must decode the echoed video and play the echoed audio. Then a tab that disappears
// without a goodbye must be noticed by consent freshness (RFC 7675: 30 s).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { launchChromium, recordActivity } from '../lib/browser.mjs';
import { startServer, ensureStopped, sleep } from '../lib/server.mjs';

let server;
let browser;
let rec;

before(async () => {
  server = await startServer({ args: ['--rtc-echo', 'true', '--log-level', 'debug'] });
  // Playout needs no user gesture here: totalSamplesReceived only grows while audio plays.
  browser = await launchChromium({ extraArgs: ['--autoplay-policy=no-user-gesture-required'] });
  rec = await recordActivity(browser.context);
});

after(async () => {
  await browser?.close();
  await ensureStopped(server);
});

async function metric(name) {
  const text = await (await fetch(server.url('/metrics'))).text();
  const m = new RegExp(`^${name.replace(/[{}"]/g, (c) => `\\${c}`)} (\\d+)$`, 'm').exec(text);
  return m ? Number(m[1]) : NaN;
}

// Runs in the page: connect to the echo endpoint and play what comes back.
async function connectEcho() {
  const stream = await navigator.mediaDevices.getUserMedia({ audio: true, video: true });
  const pc = new RTCPeerConnection();
  for (const track of stream.getTracks()) pc.addTransceiver(track, { direction: 'sendrecv' });
  await pc.setLocalDescription(await pc.createOffer());
  const res = await fetch('/rtc/echo', {
    method: 'POST',
    headers: { 'content-type': 'application/sdp' },
    body: pc.localDescription.sdp,
  });
  if (res.status !== 201) throw new Error(`echo answered ${res.status}: ${await res.text()}`);
  await pc.setRemoteDescription({ type: 'answer', sdp: await res.text() });
  for (const t of pc.getTransceivers()) {
    const el = document.createElement(t.receiver.track.kind);
    el.srcObject = new MediaStream([t.receiver.track]);
    el.autoplay = true;
    document.body.append(el);
    el.play().catch(() => {});
  }
  window.pc = pc;
}

async function pageStats(page) {
  return page.evaluate(async () => {
    const out = { connection: window.pc.connectionState };
    (await window.pc.getStats()).forEach((s) => {
      if (s.type === 'inbound-rtp' && s.kind === 'video') out.framesDecoded = s.framesDecoded ?? 0;
      if (s.type === 'inbound-rtp' && s.kind === 'audio') {
        out.totalSamplesReceived = s.totalSamplesReceived ?? 0;
      }
      if (s.type === 'transport') {
        out.dtlsState = s.dtlsState;
        out.srtpCipher = s.srtpCipher;
      }
    });
    return out;
  });
}

async function waitFor(fn, what, timeoutMs = 15000) {
  const t0 = Date.now();
  let last;
  while (Date.now() - t0 < timeoutMs) {
    last = await fn();
    if (last.ok) return last;
    await sleep(250);
  }
  throw new Error(`${what} within ${timeoutMs} ms; last: ${JSON.stringify(last)}`);
}

test('Chromium connects, and decodes the video and plays the audio the server echoes', { timeout: 60000 }, async () => {
  const page = await browser.context.newPage();
  await page.goto(server.url('/'));
  await page.evaluate(connectEcho);
  const first = await waitFor(async () => {
    const s = await pageStats(page);
    return { ...s, ok: s.connection === 'connected' && s.framesDecoded > 10 && s.totalSamplesReceived > 0 };
  }, 'echoed media decoded');
  assert.equal(first.dtlsState, 'connected');
  assert.match(first.srtpCipher, /^(SRTP_AEAD_AES_128_GCM|AES_CM_128_HMAC_SHA1_80)$/);
  // Still flowing: both counters keep rising.
  await sleep(2000);
  const later = await pageStats(page);
  assert.ok(later.framesDecoded > first.framesDecoded + 10, JSON.stringify({ first, later }));
  assert.ok(later.totalSamplesReceived > first.totalSamplesReceived, JSON.stringify({ first, later }));

  // The server saw it all go through one transport and dropped nothing.
  assert.equal(await metric('conclave_rtc_transports'), 1);
  assert.ok((await metric('conclave_rtc_packets_total{direction="in"}')) > 100);
  assert.ok((await metric('conclave_rtc_packets_total{direction="out"}')) > 100);
  for (const reason of ['stun_integrity', 'srtp', 'malformed', 'unknown_source']) {
    assert.equal(await metric(`conclave_rtc_dropped_total{reason="${reason}"}`), 0, reason);
  }
  assert.match(server.logs(), /echo transport \d+: connected \(DTLS-SRTP established\)/);
  // Signaling and media stayed on this machine's loopback.
  assert.deepEqual(rec.foreignRequests(server.origin), []);
  await page.close();  // no pc.close(): the tab just goes away
});

test('a tab that vanishes without a goodbye is closed by consent freshness (30 s)', { timeout: 60000 }, async () => {
  // The previous test closed its tab without pc.close(); nothing more arrives.
  const t0 = Date.now();
  await waitFor(async () => ({ ok: (await metric('conclave_rtc_transports')) === 0 }),
    'transport closed', 45000);
  const waited = Date.now() - t0;
  assert.match(server.logs(), /echo transport \d+: closed \(ICE consent expired\)/);
  // Not before the 30 s of RFC 7675 (minus the time the first test's tail took).
  assert.ok(waited > 20000, `closed after only ${waited} ms`);
});

test('the echo endpoint refuses what is not an offer it can answer', async () => {
  const bad = await fetch(server.url('/rtc/echo'), { method: 'POST', body: 'v=0\r\nm=audio x\r\n' });
  assert.equal(bad.status, 400);
  assert.match((await bad.json()).error.message, /offer line 2/);
  const get = await fetch(server.url('/rtc/echo'));
  assert.equal(get.status, 405);
  assert.equal(get.headers.get('allow'), 'POST');
  assert.equal((await server.stop()).code, 0);
});
