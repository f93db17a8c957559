import { describe, expect, test } from 'vitest';
import { allowedActions, mayRename, mayShare, securityLabel } from './HostControls';
import { mayUnmute } from '../session';
import type { Settings } from '../protocol';
import { applyRosterEvent, rosterFromJoin } from '../roster';

describe('allowedActions', () => {
  test('a participant may do nothing to others', () => {
    expect(Object.values(allowedActions('participant', 'participant')).some(Boolean)).toBe(false);
  });
  test('a co-host may moderate participants but not touch the host or hand out roles', () => {
    const p = allowedActions('cohost', 'participant');
    expect(p.mute && p.remove && p.stopVideo && p.spotlight && p.askUnmute).toBe(true);
    expect(p.setCohost || p.makeHost).toBe(false);
    const h = allowedActions('cohost', 'host');
    expect(h.mute || h.remove || h.stopVideo).toBe(false);
  });
  test('the host may do everything to others', () => {
    expect(Object.values(allowedActions('host', 'cohost')).every(Boolean)).toBe(true);
  });
});

describe('mayShare', () => {
  const settings = (screen_share: 'everyone' | 'hosts') => ({
    waiting_room: true,
    join_before_host: false,
    members_skip_waiting: false,
    locked: false,
    screen_share,
    unmute_self: true,
    chat: true,
    rename_self: true,
    authenticated_only: false,
    allowed_domains: [],
    e2ee: true,
  });
  test('only hosts and co-hosts when the meeting says so', () => {
    expect(mayShare({ role: 'participant', settings: settings('everyone') })).toBe(true);
    expect(mayShare({ role: 'participant', settings: settings('hosts') })).toBe(false);
    expect(mayShare({ role: 'cohost', settings: settings('hosts') })).toBe(true);
    expect(mayShare({ role: 'participant', settings: null })).toBe(true);
  });
});

describe('roster: roles and names', () => {
  const r = rosterFromJoin([{ id: 'p-a', name: 'Ada', tracks: [], speaking: false, role: 'participant' }], 'p-me');
  test('role_changed and participant_renamed update the person', () => {
    const r2 = applyRosterEvent(r, { event: 'role_changed', participant: 'p-a', role: 'cohost' }, 'p-me');
    expect(r2.participants.get('p-a')?.role).toBe('cohost');
    const r3 = applyRosterEvent(r2, { event: 'participant_renamed', participant: 'p-a', name: 'Ada L.' }, 'p-me');
    expect(r3.participants.get('p-a')?.name).toBe('Ada L.');
    expect(applyRosterEvent(r3, { event: 'role_changed', participant: 'p-x', role: 'host' }, 'p-me')).toBe(r3);
  });
});

const base: Settings = {
  waiting_room: true,
  join_before_host: false,
  members_skip_waiting: false,
  locked: false,
  screen_share: 'everyone',
  unmute_self: true,
  chat: true,
  rename_self: true,
  authenticated_only: false,
  allowed_domains: [],
  e2ee: true,
};

describe('mayRename', () => {
  test('offered while the meeting allows it, always to hosts, never before joining', () => {
    expect(mayRename({ phase: 'joined', role: 'participant', settings: base })).toBe(true);
    expect(mayRename({ phase: 'joined', role: 'participant', settings: { ...base, rename_self: false } })).toBe(false);
    expect(mayRename({ phase: 'joined', role: 'cohost', settings: { ...base, rename_self: false } })).toBe(true);
    expect(mayRename({ phase: 'waiting', role: 'participant', settings: null })).toBe(false);
  });
});

describe('mayUnmute', () => {
  const s = (over: Partial<Parameters<typeof mayUnmute>[0]>) => ({
    hostMuted: false,
    unmuteRequested: false,
    role: 'participant' as const,
    settings: base,
    ...over,
  });
  test('a host mute blocks unmuting only while unmute_self is off and nobody asked', () => {
    expect(mayUnmute(s({}))).toBe(true);
    expect(mayUnmute(s({ hostMuted: true }))).toBe(true);
    expect(mayUnmute(s({ hostMuted: true, settings: { ...base, unmute_self: false } }))).toBe(false);
    expect(mayUnmute(s({ hostMuted: true, unmuteRequested: true, settings: { ...base, unmute_self: false } }))).toBe(true);
    expect(mayUnmute(s({ hostMuted: true, role: 'cohost', settings: { ...base, unmute_self: false } }))).toBe(true);
  });
});

describe('securityLabel', () => {
  test('hosts and co-hosts hear how many wait; others never', () => {
    const w = [{ id: 'p-w', name: 'Wes', signed_in: false, since: 0 }];
    expect(securityLabel({ phase: 'joined', role: 'host', waiting: [] })).toBe('Security');
    expect(securityLabel({ phase: 'joined', role: 'cohost', waiting: w })).toBe('Security, 1 waiting');
    expect(securityLabel({ phase: 'joined', role: 'participant', waiting: w })).toBe('Security');
  });
});
