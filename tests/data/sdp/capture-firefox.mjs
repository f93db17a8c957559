// Prints Firefox's simulcast publish offer, then its answer to each offer file given. Run
// it from a directory where puppeteer-core is installed (not the repository), inside the
// veth namespace of TESTING.md (README.md): node <path>/capture-firefox.mjs <offer.sdp>...
import { readFileSync } from 'node:fs';
import http from 'node:http';
import { createRequire } from 'node:module';

const puppeteer = createRequire(`${process.cwd()}/`)('puppeteer-core');

const server = http.createServer((req, res) => { res.setHeader('content-type', 'text/html'); res.end('<!doctype html><title>cap</title>'); });
await new Promise((r) => server.listen(0, '127.0.0.1', r));
const browser = await puppeteer.launch({ browser: 'firefox', executablePath: '/usr/bin/firefox-esr', headless: true,
  extraPrefsFirefox: { 'media.navigator.streams.fake': true, 'media.navigator.permission.disabled': true } });
console.error('version', await browser.version());
const page = await browser.newPage();
await page.goto(`http://localhost:${server.address().port}/`);
const publish = await page.evaluate(async () => {
  const stream = await navigator.mediaDevices.getUserMedia({ audio: true, video: true });
  const pc = new RTCPeerConnection();
  pc.addTransceiver(stream.getVideoTracks()[0], { direction: 'sendonly', sendEncodings: [
    { rid: 'q', scaleResolutionDownBy: 4 }, { rid: 'h', scaleResolutionDownBy: 2 }, { rid: 'f' }] });
  pc.addTransceiver(stream.getAudioTracks()[0], { direction: 'sendonly' });
  const offer = await pc.createOffer();
  return offer.sdp;
});
console.log('==== publish');
console.log(publish);
for (const file of process.argv.slice(2)) {
  const sdp = readFileSync(file, 'utf8');
  const result = await page.evaluate(async (sdp) => {
    try {
      const pc = new RTCPeerConnection();
      await pc.setRemoteDescription({ type: 'offer', sdp });
      const answer = await pc.createAnswer();
      await pc.setLocalDescription(answer);
      const tracks = pc.getTransceivers().map((t) => `${t.mid} ${t.receiver.track.kind} ${t.currentDirection}`);
      return { sdp: answer.sdp, tracks };
    } catch (e) { return { error: String(e) }; }
  }, sdp);
  console.log(`==== ${file}`);
  console.log(JSON.stringify(result.tracks ?? result.error));
  if (result.sdp) console.log(result.sdp);
}
await browser.close();
server.close();
