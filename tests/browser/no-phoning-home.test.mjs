// No phoning home (issue 8): a whole meeting — the server and three Chromium browsers —
// runs in a network namespace of the test's own whose default route leads out of it
// (netns.sh --veth), so that a DNS lookup or any outbound connection would leave a packet
// on its interfaces instead of failing in silence. The test captures every packet there
// (tests/lib/sniff.py) and finds no DNS query and nothing sent to an address outside the
// namespace; the server logs no failed outbound attempt. Checked that it can fail: a
// `getent hosts` run in the namespace shows up as a query for its name.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { startServer, ensureStopped, sleep } from '../lib/server.mjs';
import { launchChromium } from '../lib/browser.mjs';
import { meetingUrl } from '../lib/meetings.mjs';
import { UI_ARGS, VIEWPORTS, joinMeeting, waitForVideos } from '../lib/ui.mjs';

const OWN = process.env.TEST_NETNS_ADDRESS ?? '10.255.255.1';
// Where a name lookup would go: the resolvers of /etc/resolv.conf. With no gateway on the
// namespace's default route, a lookup shows as an ARP request for one of them.
const RESOLVERS = readFileSync('/etc/resolv.conf', 'utf8')
  .split('\n')
  .map((l) => /^\s*nameserver\s+(\S+)/.exec(l)?.[1])
  .filter(Boolean);
// Chromium's own services (sign-in, autofill, component updates) look up Google's names
// even with background networking off. They are the browser vendor's, not Conclave's: the
// browser is told they do not exist, so that any other name — one our client or server
// asked for — still shows in the capture.
const CHROMIUM_OWN_SERVICES =
  '--host-resolver-rules=MAP *.googleapis.com ~NOTFOUND, MAP *.google.com ~NOTFOUND, MAP *.gstatic.com ~NOTFOUND';

let sniffer;
let capture;
let server;
const browsers = [];

function startSniffer() {
  const child = spawn('python3', [fileURLToPath(new URL('../lib/sniff.py', import.meta.url)), '--seconds', '240'], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let out = '';
  const ready = new Promise((resolve, reject) => {
    child.stdout.on('data', (d) => {
      out += d;
      if (out.startsWith('ready\n')) resolve();
    });
    child.on('exit', (code) => reject(new Error(`sniff.py exited (${code}) before it was ready: ${out}`)));
  });
  const result = new Promise((resolve) => child.on('exit', () => resolve(JSON.parse(out.slice('ready\n'.length)))));
  return { child, ready, result };
}

before(
  async () => {
    assert.equal(process.env.TEST_NETNS, 'veth', 'runs inside tests/browser/netns.sh --veth');
    // The resolver's address is given to this namespace's loopback: a lookup then reaches
    // it as a UDP packet the capture reads the name from (and is refused at once).
    for (const r of RESOLVERS) if (/^\d+\.\d+\.\d+\.\d+$/.test(r)) execFileSync('ip', ['addr', 'add', `${r}/32`, 'dev', 'lo']);
    capture = startSniffer();
    sniffer = capture.child;
    await capture.ready;
    server = await startServer({ args: ['--meeting-create', 'anyone', '--log-level', 'debug'] });
  },
  { timeout: 30000 },
);
after(async () => {
  for (const b of browsers) await b.close().catch(() => {});
  await ensureStopped(server);
  sniffer?.kill('SIGKILL');
});

const outside = (a) =>
  !(a.startsWith('127.') || a === '::1' || a === OWN || /^(22[4-9]|23\d)\./.test(a) || /^ff/i.test(a) || /^fe80:/i.test(a));

test('a three-person meeting sends nothing out of the namespace and looks up no name', { timeout: 120000 }, async () => {
  const url = await meetingUrl(server);
  for (const name of ['Ada', 'Ben', 'Cy']) {
    const b = await launchChromium({
      timeoutMs: 15000,
      viewport: VIEWPORTS.desktop,
      extraArgs: [...UI_ARGS, CHROMIUM_OWN_SERVICES],
    });
    browsers.push(b);
    await joinMeeting(b.page, { name, url });
  }
  await waitForVideos(browsers[0].page, { count: 3, timeoutMs: 30000 });
  await sleep(3000); // the meeting runs a while
  for (const b of browsers.splice(0)) await b.close();
  await server.stop();
  sniffer.kill('SIGTERM');
  const seen = await capture.result;
  assert.ok(seen.packets > 100, `the capture saw only ${seen.packets} packets: it is not seeing the meeting`);
  const dns = seen.not_loopback.filter((p) => p.dport === 53 || p.sport === 53 || RESOLVERS.includes(p.dst));
  assert.deepEqual(dns.map((p) => p.dns ?? p.dst), [], 'names were looked up');
  const out = seen.not_loopback.filter((p) => outside(p.dst));
  assert.deepEqual(out, [], 'packets left for addresses outside the namespace');
  const logs = server.logs();
  assert.doesNotMatch(logs, /unreachable|resolve|getaddrinfo|outbound|connect(ion)? (refused|failed)/i, logs);
});
