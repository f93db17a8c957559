// Prints, for each offer file given, Chromium's answer to it (setRemoteDescription,
// createAnswer, setLocalDescription) and the transceivers it made. Run it in a
// loopback-only namespace (README.md): node capture-chromium.mjs <offer.sdp>...
import { readFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createRequire } from 'node:module';
const require = createRequire(new URL('../../', import.meta.url));  // tests/node_modules
const { chromium } = require('playwright-core');

const args = ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync',
  '--use-fake-device-for-media-stream', '--use-fake-ui-for-media-stream',
  '--allow-loopback-in-peer-connection'];
const context = await chromium.launchPersistentContext(mkdtempSync(join(tmpdir(), 'chr-')), {
  executablePath: '/usr/bin/chromium', args, headless: true });
const page = await context.newPage();
await page.goto('about:blank');
console.error('version', context.browser()?.version?.() ?? '');
for (const file of process.argv.slice(2)) {
  const sdp = readFileSync(file, 'utf8');
  const result = await page.evaluate(async (sdp) => {
    try {
      const pc = new RTCPeerConnection();
      await pc.setRemoteDescription({ type: 'offer', sdp });
      const answer = await pc.createAnswer();
      await pc.setLocalDescription(answer);
      const tracks = pc.getTransceivers().map((t) => `${t.mid} ${t.receiver.track.kind} ${t.currentDirection}`);
      pc.close();
      return { sdp: answer.sdp, tracks };
    } catch (e) { return { error: String(e) }; }
  }, sdp);
  console.log(`==== ${file}`);
  console.log(JSON.stringify(result.tracks ?? result.error));
  if (result.sdp) console.log(result.sdp);
}
await context.close();
