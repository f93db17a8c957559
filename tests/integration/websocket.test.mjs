// The signaling WebSocket at /ws: handshake with the security headers, typed errors (no
// echo), size limit, origin check, keepalive, and the connection metrics.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import WebSocket from 'ws';
import { startServer, ensureStopped, sleep } from '../lib/server.mjs';

let server;
before(async () => {
  server = await startServer({
    args: ['--websocket-max-message-bytes', '4096', '--websocket-idle-timeout', '2'],
  });
});
after(async () => ensureStopped(server));

function open(path = '/ws', options = {}) {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`ws://127.0.0.1:${server.port}${path}`, options);
    const timer = setTimeout(() => reject(new Error('no handshake')), 5000);
    ws.once('upgrade', (res) => (ws.upgradeHeaders = res.headers));
    ws.once('open', () => {
      clearTimeout(timer);
      resolve(ws);
    });
    ws.once('unexpected-response', (req, res) => {
      clearTimeout(timer);
      reject(Object.assign(new Error(`refused with ${res.statusCode}`), { status: res.statusCode }));
    });
    ws.once('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
  });
}

function nextMessage(ws, ms = 3000) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('no message')), ms);
    ws.once('message', (data, binary) => {
      clearTimeout(timer);
      resolve(binary ? data : JSON.parse(data.toString()));
    });
  });
}

function closed(ws, ms = 5000) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('not closed in time')), ms);
    ws.once('close', (code, reason) => {
      clearTimeout(timer);
      resolve({ code, reason: reason.toString() });
    });
  });
}

async function metric(name) {
  const text = await (await fetch(server.url('/metrics'))).text();
  const m = new RegExp(`^${name} (\\d+)$`, 'm').exec(text);
  return m ? Number(m[1]) : NaN;
}

test('handshake carries the security headers and counts the connection', async () => {
  const total = await metric('conclave_websocket_connections_total');
  const ws = await open();
  assert.match(ws.upgradeHeaders['content-security-policy'], /default-src 'self'/);
  assert.equal(ws.upgradeHeaders['x-content-type-options'], 'nosniff');
  assert.equal(await metric('conclave_websocket_connections'), 1);
  assert.equal(await metric('conclave_websocket_connections_total'), total + 1);
  ws.close(1000);
  assert.equal((await closed(ws)).code, 1000);
  await sleep(100);
  assert.equal(await metric('conclave_websocket_connections'), 0);
});

test('requests get exactly one typed reply, never an echo', async () => {
  const ws = await open();
  ws.send(JSON.stringify({ id: 1, type: 'no_such_request', secret: 'x' }));
  const reply = await nextMessage(ws);
  assert.deepEqual(Object.keys(reply).sort(), ['error', 'id']);
  assert.equal(reply.id, 1);
  assert.equal(reply.error.code, 'unknown_type');
  assert.equal(typeof reply.error.message, 'string');

  ws.send('this is not json');
  assert.equal((await nextMessage(ws)).error.code, 'bad_json');
  ws.send(JSON.stringify({ type: 'x' }));
  const noId = await nextMessage(ws);
  assert.equal(noId.id, null);
  assert.equal(noId.error.code, 'bad_request');
  ws.send(JSON.stringify({ id: 'abc', type: 'Bad Type' }));
  const badType = await nextMessage(ws);
  assert.equal(badType.id, 'abc');
  assert.equal(badType.error.code, 'bad_request');
  ws.close();
  await closed(ws);
});

test('a message over the size limit closes the connection with 1009', async () => {
  const ws = await open();
  const done = closed(ws);
  ws.send(JSON.stringify({ id: 1, type: 'x', pad: 'a'.repeat(5000) }));
  assert.equal((await done).code, 1009);
  // A message just under the limit is fine on a new connection.
  const ok = await open();
  ok.send(JSON.stringify({ id: 2, type: 'x', pad: 'a'.repeat(3900) }));
  assert.equal((await nextMessage(ok)).id, 2);
  ok.close();
  await closed(ok);
  const text = await (await fetch(server.url('/metrics'))).text();
  assert.match(text, /^conclave_websocket_closed_total\{reason="oversize"\} [1-9]/m);
});

test('binary frames are refused with 1003', async () => {
  const ws = await open();
  const done = closed(ws);
  ws.send(Buffer.from([1, 2, 3]));
  assert.equal((await done).code, 1003);
});

test('a page of another origin cannot open the WebSocket', async () => {
  await assert.rejects(open('/ws', { origin: 'https://evil.example' }), { status: 403 });
  const same = await open('/ws', { origin: server.origin });
  same.close();
  await closed(same);
});

test('only /ws upgrades', async () => {
  await assert.rejects(open('/other'), { status: 404 });
});

test('keepalive: the server pings, a client that answers stays, a silent one is closed', async () => {
  // ws answers pings automatically: after three idle timeouts it is still open.
  const alive = await open();
  let pings = 0;
  alive.on('ping', () => pings++);
  await sleep(3500);
  assert.equal(alive.readyState, WebSocket.OPEN);
  assert.ok(pings >= 1, 'the server sent a ping');
  alive.close();
  await closed(alive);

  // A client that never answers (no pong: autoPong off) is dropped after the idle timeout.
  const silent = await open('/ws', { autoPong: false });
  const result = await closed(silent, 8000);
  assert.notEqual(result.code, 1000);
});
