// The authorization matrix of docs/protocol.md ("Host requests"), through raw signaling
// messages: every host action, tried by every role (host, co-host, participant, someone
// in the waiting room, someone removed, a connection that never joined). An action that
// is allowed must take effect; one that is refused must answer with its typed error and
// change nothing that anyone in the meeting can observe.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { startServer, ensureStopped, sleep } from '../lib/server.mjs';
import { SignalClient, expectError } from '../lib/signal-client.mjs';
import { createMeeting, joinMeeting } from '../lib/meetings.mjs';

let server;
before(async () => {
  // Many joins from one address in little time: the per-address join limit is raised.
  server = await startServer({ args: ['--meeting-create', 'anyone', '--limits-join-attempts', '100000'] });
});
after(async () => ensureStopped(server));

// A real browser offer with a video m-section, published as a screen share.
const OFFER = readFileSync(new URL('../data/sdp/chromium-156-sendrecv-offer.sdp', import.meta.url), 'utf8');
const VIDEO_MID = /^m=video .*\r?\n(?:(?!m=)[^\n]*\n)*?a=mid:(\S+)/m.exec(OFFER)[1];

// Every meeting of the matrix: renaming oneself is off and only hosts may share, so that
// `rename` and a screen `publish` are host powers too.
const SETTINGS = { rename_self: false, screen_share: 'hosts' };

const ROLES = ['host', 'cohost', 'participant', 'waiting', 'removed', 'unauthenticated'];

// Each action: the request, and the event that proves it took effect (seen by `who`).
const ACTIONS = {
  admit: { fields: (m) => ({ participant: m.wanda.me.id }), proof: ['wanda', 'admitted'] },
  deny: { fields: (m) => ({ participant: m.wanda.me.id }), proof: ['wanda', 'denied'] },
  remove: { fields: (m) => ({ participant: m.vic.me.id, ban: false }), proof: ['vic', 'closing'] },
  remove_ban: { type: 'remove', fields: (m) => ({ participant: m.vic.me.id, ban: true }), proof: ['vic', 'closing'] },
  mute_participant: { fields: (m) => ({ participant: m.vic.me.id }), proof: ['vic', 'muted_by_host'] },
  mute_all: { fields: () => ({}), proof: ['vic', 'muted_by_host'] },
  ask_unmute: { fields: (m) => ({ participant: m.vic.me.id }), proof: ['vic', 'unmute_requested'] },
  stop_video: { fields: (m) => ({ participant: m.vic.me.id }), proof: null },
  spotlight: { fields: (m) => ({ participant: m.vic.me.id }), proof: ['vic', 'spotlight'] },
  set_settings: { fields: () => ({ settings: { chat: false } }), proof: ['vic', 'settings_changed'] },
  lock: { type: 'set_settings', fields: () => ({ settings: { locked: true } }), proof: ['vic', 'settings_changed'] },
  set_role: { fields: (m) => ({ participant: m.vic.me.id, role: 'cohost' }), proof: ['vic', 'role_changed'] },
  transfer_host: { fields: (m) => ({ participant: m.vic.me.id }), proof: ['vic', 'role_changed'] },
  end_meeting: { fields: () => ({}), proof: ['vic', 'closing'] },
  rename: { fields: () => ({ name: 'Renamed' }), proof: ['vic', 'participant_renamed'] },
  publish_screen: {
    type: 'publish',
    fields: () => ({ sdp: OFFER, tracks: [{ mid: VIDEO_MID, kind: 'video', source: 'screen', muted: false }] }),
    proof: ['vic', 'track_published'],
  },
};

const HOST_ONLY = new Set(['set_role', 'transfer_host', 'end_meeting']);

function expected(role, action) {
  if (role === 'removed' || role === 'unauthenticated') return 'not_joined';
  if (role === 'waiting' || role === 'participant') return 'forbidden';
  if (role === 'cohost' && HOST_ONLY.has(action)) return 'forbidden';
  return 'ok';
}

/** A fresh meeting: a host, Vic (admitted), Wanda (waiting), and the actor in `role`. */
async function meetingWith(role) {
  const created = await createMeeting(server.origin, { settings: SETTINGS });
  const host = await joinMeeting(server.origin, created, 'Host', { host_key: created.host_key });
  assert.equal(host.result.role, 'host');
  const vic = await joinMeeting(server.origin, created, 'Vic');
  assert.equal(vic.result.state, 'waiting');
  await host.request('admit', { participant: vic.me.id });
  await vic.next('admitted');
  let actor;
  if (role === 'host') {
    actor = host;
  } else if (role === 'unauthenticated') {
    actor = await SignalClient.open(server.origin);
  } else {
    actor = await joinMeeting(server.origin, created, 'Actor');
    if (role !== 'waiting') {
      await host.request('admit', { participant: actor.me.id });
      await actor.next('admitted');
    }
    if (role === 'cohost') {
      await host.request('set_role', { participant: actor.me.id, role: 'cohost' });
      await actor.next('role_changed');
    }
    if (role === 'removed') {
      const token = actor.token;
      await host.request('remove', { participant: actor.me.id, ban: false });
      await actor.closed;
      // The removed participant comes back with its old token: its place is gone.
      actor = await SignalClient.open(server.origin);
      await expectError(actor.request('join', { protocol: 1, meeting: created.id, passcode: created.passcode, name: 'Actor', reconnect: token }), 'reconnect_expired');
    }
  }
  const wanda = await joinMeeting(server.origin, created, 'Wanda');
  assert.equal(wanda.result.state, 'waiting');
  await sleep(50);
  return { created, host, vic, wanda, actor, all: [host, vic, wanda] };
}

function clear(clients) {
  for (const c of clients) c.events.length = 0;
}

async function closeAll(m) {
  for (const c of new Set([...m.all, m.actor])) c.terminate();
}

for (const role of ROLES) {
  test(`host actions tried by: ${role}`, async () => {
    const rows = [];
    for (const [action, spec] of Object.entries(ACTIONS)) {
      const m = await meetingWith(role);
      try {
        clear(m.all);
        const type = spec.type ?? action;
        const want = expected(role, action);
        let got;
        try {
          await m.actor.request(type, spec.fields(m));
          got = 'ok';
        } catch (e) {
          got = e.code ?? e.message;
        }
        rows.push(`${action} by ${role}: ${got}`);
        assert.equal(got, want, `${action} by ${role}: expected ${want}, got ${got}`);
        if (want === 'ok') {
          // stop_video on someone with no camera has nothing to show: the reply is the proof.
          if (spec.proof) await m[spec.proof[0]].next(spec.proof[1]);
        } else {
          // Refused: nothing changed for anyone. No event reached the host, Vic or Wanda,
          // and Vic is still in the meeting, Wanda still waiting, the settings as they were.
          await sleep(150);
          for (const c of m.all) {
            if (c === m.actor) continue;
            assert.deepEqual(c.events.map((e) => e.event), [], `${action} by ${role} caused events`);
          }
          const probe = await joinMeeting(m.server ?? server.origin, m.created, 'Probe', { host_key: m.created.host_key });
          assert.equal(probe.result.state, 'admitted');
          assert.ok(probe.result.roster.some((p) => p.id === m.vic.me.id), 'Vic is still in the meeting');
          assert.ok(probe.result.waiting.some((w) => w.id === m.wanda.me.id), 'Wanda is still waiting');
          assert.equal(probe.result.settings.chat, true);
          assert.equal(probe.result.settings.locked, false);
          assert.equal(probe.result.spotlight, null);
          const vicNow = probe.result.roster.find((p) => p.id === m.vic.me.id);
          assert.equal(vicNow.role, 'participant');
          assert.equal(probe.result.settings.rename_self, false);
          assert.equal(probe.result.settings.screen_share, 'hosts');
          for (const p of probe.result.roster) {
            assert.ok(['Host', 'Vic', 'Actor'].includes(p.name), `${action} by ${role}: someone is now called ${p.name}`);
            assert.deepEqual(p.tracks, [], `${action} by ${role}: ${p.name} has tracks`);
          }
          probe.terminate();
        }
      } finally {
        await closeAll(m);
      }
    }
    console.log(rows.join('\n'));
  });
}

test('a participant cannot act on the host, and a co-host cannot either', async () => {
  const m = await meetingWith('cohost');
  try {
    clear(m.all);
    for (const [type, fields] of [
      ['remove', { participant: m.host.me.id, ban: true }],
      ['mute_participant', { participant: m.host.me.id }],
      ['stop_video', { participant: m.host.me.id }],
    ]) {
      await expectError(m.actor.request(type, fields), 'forbidden');
    }
    await sleep(100);
    assert.deepEqual(m.host.events.map((e) => e.event), [], 'the host heard of a refused action');
  } finally {
    await closeAll(m);
  }
});

test('rename is refused when the host does not allow it, and screen sharing when only hosts may', async () => {
  const m = await meetingWith('participant');
  try {
    // The meeting was created with rename_self off and screen_share hosts.
    clear(m.all);
    await expectError(m.actor.request('rename', { name: 'Evil' }), 'forbidden');
    const offer = (await import('node:fs')).readFileSync(
      new URL('../data/sdp/chromium-156-sendrecv-offer.sdp', import.meta.url),
      'utf8',
    );
    const video = /^m=video .*\r?\n(?:(?!m=)[^\n]*\n)*?a=mid:(\S+)/m.exec(offer)[1];
    await expectError(
      m.actor.request('publish', { sdp: offer, tracks: [{ mid: video, kind: 'video', source: 'screen', muted: false }] }),
      'forbidden',
    );
    await sleep(150);
    assert.deepEqual(m.host.events.map((e) => e.event), [], 'the refused rename or share reached the host');
    // The host may rename itself and share.
    await m.host.request('rename', { name: 'The Host' });
    await m.vic.next('participant_renamed', (e) => e.name === 'The Host');
  } finally {
    await closeAll(m);
  }
});
