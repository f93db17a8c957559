import { afterEach, beforeEach, describe, expect, test, vi } from 'vitest';
import type { MeetingSession } from '../session';
import {
  CHAT_MAX_CHARS,
  CHAT_MAX_MESSAGES,
  HAND_QUERY_INTERVAL_MS,
  REACTIONS,
  REACTIONS_MAX,
  REACTIONS_PER_SENDER_MAX,
  REACTION_TTL_MS,
  REACT_INTERVAL_MS,
  Social,
  WIRE_TAG,
  addMessage,
  addReaction,
  applyIncoming,
  expireReactions,
  groupMessages,
  initialSocialState,
  outgoingChatText,
  parseWire,
  setChatOpen,
  type ChatMessage,
  type RelayTransport,
  type RosterSource,
  type RosterView,
  type SocialState,
} from './social';
import { orderPeople, type PersonRow } from './ParticipantList';

// The session is what the app hands to Social: it must fit the narrow interface.
const sessionFits: (s: MeetingSession) => RosterSource = (s) => s;
void sessionFits;

const chat = (id: string, text: string, extra: object = {}) => ({ t: WIRE_TAG, kind: 'chat', id, text, ...extra });
const hand = (raised: boolean, extra: object = {}) => ({ t: WIRE_TAG, kind: 'hand', raised, ...extra });
const reaction = (emoji: string) => ({ t: WIRE_TAG, kind: 'reaction', emoji });
const THUMBS = REACTIONS[0].emoji;

const people = (...list: [string, string][]) => new Map(list.map(([id, name]) => [id, { name }]));
const ctx = (now = 1000) => ({ selfId: 'p-me', participants: people(['p-ada', 'Ada'], ['p-bob', 'Bob']), now });

// ---------------------------------------------------------------- validation

describe('parseWire accepts exactly the documented payloads', () => {
  test('each kind, well formed', () => {
    expect(parseWire(chat('abc_DEF-123', 'hello'))).toEqual({ t: WIRE_TAG, kind: 'chat', id: 'abc_DEF-123', text: 'hello' });
    expect(parseWire(hand(true))).toEqual({ t: WIRE_TAG, kind: 'hand', raised: true });
    expect(parseWire(hand(false, { age: 0 }))).toEqual({ t: WIRE_TAG, kind: 'hand', raised: false, age: 0 });
    expect(parseWire(hand(true, { age: 86_400_000 }))).toEqual({ t: WIRE_TAG, kind: 'hand', raised: true, age: 86_400_000 });
    expect(parseWire({ t: WIRE_TAG, kind: 'hand_query' })).toEqual({ t: WIRE_TAG, kind: 'hand_query' });
    for (const r of REACTIONS) expect(parseWire(reaction(r.emoji))).toEqual({ t: WIRE_TAG, kind: 'reaction', emoji: r.emoji });
  });

  test('chat text: trimmed, newline and tab kept, up to the limit, emoji and other scripts fine', () => {
    expect(parseWire(chat('a', '  hi\n\tthere  '))).toMatchObject({ text: 'hi\n\tthere' });
    expect(parseWire(chat('a', 'x'.repeat(CHAT_MAX_CHARS)))).toMatchObject({ text: 'x'.repeat(CHAT_MAX_CHARS) });
    expect(parseWire(chat('a', 'שלום \u{1F600} 你好'))).toMatchObject({ text: 'שלום \u{1F600} 你好' });
    // A link is just text.
    expect(parseWire(chat('a', 'see https://example.com/x'))).toMatchObject({ text: 'see https://example.com/x' });
  });

  test('not an object, or not ours', () => {
    for (const bad of [null, undefined, 0, 1, true, 'chat', '', [], [chat('a', 'b')], () => 1]) {
      expect(parseWire(bad)).toBeNull();
    }
    expect(parseWire({ kind: 'chat', id: 'a', text: 'b' })).toBeNull(); // no tag
    expect(parseWire(chat('a', 'b', { t: 'conclave/2' }))).toBeNull();
    expect(parseWire(chat('a', 'b', { t: 'Conclave/1' }))).toBeNull();
    expect(parseWire(chat('a', 'b', { t: 1 }))).toBeNull();
    expect(parseWire({ t: WIRE_TAG })).toBeNull(); // no kind
    expect(parseWire({ t: WIRE_TAG, kind: 'file', id: 'a', url: 'https://x' })).toBeNull();
    expect(parseWire({ t: WIRE_TAG, kind: 'Chat', id: 'a', text: 'b' })).toBeNull();
    expect(parseWire({ t: WIRE_TAG, kind: ['chat'], id: 'a', text: 'b' })).toBeNull();
    expect(parseWire({ t: WIRE_TAG, kind: 'toString' })).toBeNull();
    expect(parseWire({ t: WIRE_TAG, kind: '__proto__' })).toBeNull();
  });

  test('chat id: a string of 1–64 safe characters', () => {
    expect(parseWire(chat('x'.repeat(64), 'b'))).not.toBeNull();
    expect(parseWire(chat('x'.repeat(65), 'b'))).toBeNull();
    expect(parseWire(chat('', 'b'))).toBeNull();
    expect(parseWire(chat('a b', 'b'))).toBeNull();
    expect(parseWire(chat('a/b', 'b'))).toBeNull();
    expect(parseWire(chat('ä', 'b'))).toBeNull();
    expect(parseWire(chat('a\n', 'b'))).toBeNull();
    expect(parseWire({ t: WIRE_TAG, kind: 'chat', text: 'b' })).toBeNull();
    expect(parseWire({ t: WIRE_TAG, kind: 'chat', id: 7, text: 'b' })).toBeNull();
    expect(parseWire({ t: WIRE_TAG, kind: 'chat', id: null, text: 'b' })).toBeNull();
    expect(parseWire({ t: WIRE_TAG, kind: 'chat', id: ['a'], text: 'b' })).toBeNull();
  });

  test('chat text: wrong type, empty, oversized, control characters, broken UTF-16', () => {
    for (const text of [undefined, null, 5, true, ['hi'], { text: 'hi' }]) {
      expect(parseWire({ t: WIRE_TAG, kind: 'chat', id: 'a', text })).toBeNull();
    }
    expect(parseWire(chat('a', ''))).toBeNull();
    expect(parseWire(chat('a', ' \n\t '))).toBeNull();
    expect(parseWire(chat('a', 'x'.repeat(CHAT_MAX_CHARS + 1)))).toBeNull();
    // Over the limit before trimming counts too: the sender trims.
    expect(parseWire(chat('a', ' '.repeat(CHAT_MAX_CHARS) + 'x'))).toBeNull();
    expect(parseWire(chat('a', 'x'.repeat(20000)))).toBeNull();
    for (const c of ['\u0000', '\u0007', '\b', '\r', '\u000b', '\f', '\u001b', '\u007f', '\u0085', '\u009b']) {
      expect(parseWire(chat('a', `one${c}two`)), JSON.stringify(c)).toBeNull();
    }
    expect(parseWire(chat('a', 'half \uD83D pair'))).toBeNull();
    expect(parseWire(chat('a', 'trail \uDE00'))).toBeNull();
    expect(parseWire(chat('a', 'end \uD83D'))).toBeNull();
  });

  test('hand: raised must be a boolean, age a whole number of ms in range', () => {
    for (const raised of [undefined, null, 1, 0, 'true', 'false', [], {}]) {
      expect(parseWire({ t: WIRE_TAG, kind: 'hand', raised })).toBeNull();
    }
    for (const age of [-1, 1.5, 86_400_001, Infinity, NaN, '10', null, true]) {
      expect(parseWire(hand(true, { age })), String(age)).toBeNull();
    }
  });

  test('reaction: only the six on offer, exactly', () => {
    for (const emoji of ['\u{1F4A9}', '\u2764', '\u{1F44D}\u{1F44D}', ' \u{1F44D}', 'thumbsUp', '', 1, null, undefined, ['\u{1F44D}']]) {
      expect(parseWire({ t: WIRE_TAG, kind: 'reaction', emoji }), String(emoji)).toBeNull();
    }
  });

  test('unknown extra fields are ignored, not carried', () => {
    expect(parseWire(chat('a', 'hi', { name: 'Mallory', html: '<b>x</b>' }))).toEqual({
      t: WIRE_TAG,
      kind: 'chat',
      id: 'a',
      text: 'hi',
    });
  });
});

describe('applyIncoming', () => {
  test('a chat message takes the name from the roster, not from the payload', () => {
    const s = applyIncoming(initialSocialState, 'p-ada', chat('m1', 'hi', { name: 'The Boss', from: 'p-bob' }), ctx(42));
    expect(s.messages).toEqual([{ id: 'm1', from: 'p-ada', name: 'Ada', self: false, text: 'hi', at: 42, status: 'sent' }]);
  });

  test('from someone not in the roster, or from ourselves: ignored', () => {
    const s0 = initialSocialState;
    expect(applyIncoming(s0, 'p-gone', chat('m1', 'hi'), ctx())).toBe(s0);
    expect(applyIncoming(s0, 'p-gone', hand(true), ctx())).toBe(s0);
    expect(applyIncoming(s0, 'p-gone', reaction(THUMBS), ctx())).toBe(s0);
    expect(applyIncoming(s0, 'p-me', chat('m1', 'hi'), ctx())).toBe(s0);
    expect(applyIncoming(s0, '', chat('m1', 'hi'), ctx())).toBe(s0);
  });

  test('malformed payloads leave the state as it was and do not throw', () => {
    const s0 = initialSocialState;
    for (const bad of [null, 'x', 12, [], {}, chat('m1', ''), chat('m1', 'a\u0000'), hand('yes' as never), reaction('x'), { t: WIRE_TAG, kind: 'hand_query' }]) {
      expect(applyIncoming(s0, 'p-ada', bad, ctx())).toBe(s0);
    }
  });

  test('the same message id twice from one sender is kept once; from two senders, twice', () => {
    let s = applyIncoming(initialSocialState, 'p-ada', chat('m1', 'hi'), ctx());
    s = applyIncoming(s, 'p-ada', chat('m1', 'hi again'), ctx());
    s = applyIncoming(s, 'p-bob', chat('m1', 'me too'), ctx());
    expect(s.messages.map((m) => `${m.from}:${m.text}`)).toEqual(['p-ada:hi', 'p-bob:me too']);
  });

  test('hands: up with the age the sender reports, down again', () => {
    let s = applyIncoming(initialSocialState, 'p-ada', hand(true, { age: 3000 }), ctx(10_000));
    s = applyIncoming(s, 'p-bob', hand(true), ctx(10_000));
    expect([...s.hands]).toEqual([
      ['p-ada', 7000],
      ['p-bob', 10_000],
    ]);
    // Said again (a re-announce): keeps when it went up.
    expect(applyIncoming(s, 'p-ada', hand(true, { age: 0 }), ctx(20_000))).toBe(s);
    s = applyIncoming(s, 'p-ada', hand(false), ctx(20_000));
    expect([...s.hands.keys()]).toEqual(['p-bob']);
  });
});

// ---------------------------------------------------------------- reducers

const msg = (n: number, patch: Partial<ChatMessage> = {}): ChatMessage => ({
  id: `m${n}`,
  from: 'p-ada',
  name: 'Ada',
  self: false,
  text: `text ${n}`,
  at: n,
  status: 'sent',
  ...patch,
});

describe('unread and the message cap', () => {
  test('others’ messages count while the chat is closed; ours never; opening clears', () => {
    let s = addMessage(initialSocialState, msg(1));
    s = addMessage(s, msg(2));
    s = addMessage(s, msg(3, { self: true, from: 'p-me' }));
    expect(s.unread).toBe(2);
    s = setChatOpen(s, true);
    expect(s.unread).toBe(0);
    expect(s.chatOpen).toBe(true);
    s = addMessage(s, msg(4));
    expect(s.unread).toBe(0);
    s = setChatOpen(s, false);
    s = addMessage(s, msg(5));
    expect(s.unread).toBe(1);
    expect(s.messages).toHaveLength(5);
  });

  test('at most CHAT_MAX_MESSAGES kept, the oldest dropped', () => {
    let s: SocialState = initialSocialState;
    for (let i = 0; i < CHAT_MAX_MESSAGES + 10; i++) s = addMessage(s, msg(i));
    expect(s.messages).toHaveLength(CHAT_MAX_MESSAGES);
    expect(s.messages[0].id).toBe('m10');
    expect(s.messages[CHAT_MAX_MESSAGES - 1].id).toBe(`m${CHAT_MAX_MESSAGES + 9}`);
    expect(s.unread).toBe(CHAT_MAX_MESSAGES);
  });
});

describe('reactions', () => {
  const r = (from: string, at: number) => ({ from, name: from, self: false, emoji: THUMBS, at });

  test('expire after REACTION_TTL_MS', () => {
    let s = addReaction(initialSocialState, r('a', 0), 0);
    s = addReaction(s, r('b', 1000), 1000);
    expect(expireReactions(s, REACTION_TTL_MS - 1)).toBe(s);
    expect(expireReactions(s, REACTION_TTL_MS).reactions.map((x) => x.from)).toEqual(['b']);
    expect(expireReactions(s, REACTION_TTL_MS + 1000).reactions).toEqual([]);
  });

  test('at most REACTIONS_MAX at once, the oldest dropped', () => {
    let s: SocialState = initialSocialState;
    for (let i = 0; i < REACTIONS_MAX + 5; i++) s = addReaction(s, r(`p${i}`, i), i);
    expect(s.reactions).toHaveLength(REACTIONS_MAX);
    expect(s.reactions[0].from).toBe('p5');
    expect(new Set(s.reactions.map((x) => x.id)).size).toBe(REACTIONS_MAX);
  });

  test('one sender cannot fill the overlay', () => {
    let s: SocialState = initialSocialState;
    for (let i = 0; i < 50; i++) s = addReaction(s, r('flood', i), i);
    s = addReaction(s, r('other', 60), 60);
    expect(s.reactions.filter((x) => x.from === 'flood')).toHaveLength(REACTIONS_PER_SENDER_MAX);
    expect(s.reactions.filter((x) => x.from === 'other')).toHaveLength(1);
  });
});

describe('outgoing text and grouping', () => {
  test('what is typed is cleaned up the way receivers require', () => {
    expect(outgoingChatText('  a\r\nb\rc\u0007d\t  ')).toBe('a\nb\ncd');
    expect(outgoingChatText('bad \uD83D half')).toBe('bad \uFFFD half');
    expect(outgoingChatText(' \n ')).toBeNull();
    expect(outgoingChatText('x'.repeat(CHAT_MAX_CHARS + 1))).toBeNull();
    const sent = outgoingChatText('x\u0001y\r\nz')!;
    expect(parseWire(chat('a', sent))).toMatchObject({ text: sent });
  });

  test('consecutive messages of one sender form a group; a long pause or someone else starts a new one', () => {
    const groups = groupMessages([
      msg(1, { at: 0 }),
      msg(2, { at: 60_000 }),
      msg(3, { at: 60_000 + 5 * 60_000 }),
      msg(4, { at: 400_000, from: 'p-bob', name: 'Bob' }),
      msg(5, { at: 400_001, from: 'p-me', self: true }),
      msg(6, { at: 400_002, from: 'p-me-after-rejoin', self: true }),
    ]);
    expect(groups.map((g) => g.messages.map((m) => m.id))).toEqual([['m1', 'm2'], ['m3'], ['m4'], ['m5', 'm6']]);
  });
});

describe('participant list order', () => {
  const row = (id: string, name: string, patch: Partial<PersonRow> = {}): PersonRow => ({
    id,
    name,
    self: false,
    micOff: false,
    hand: null,
    ...patch,
  });
  test('raised hands first in the order raised, then us, then the others alphabetically', () => {
    const order = orderPeople(
      [
        row('me', 'Zed', { self: true }),
        row('1', 'bob'),
        row('2', 'Ada'),
        row('3', 'Carl', { hand: 200 }),
        row('4', 'Dora', { hand: 100 }),
        row('5', 'Émile'),
      ],
      new Intl.Collator('en'),
    );
    expect(order.map((p) => p.name)).toEqual(['Dora', 'Carl', 'Zed', 'Ada', 'bob', 'Émile']);
  });
});

// ---------------------------------------------------------------- the store

class FakeTransport implements RelayTransport {
  sent: { to: string | null; data: Record<string, unknown> }[] = [];
  /** How the next sends end. */
  mode: 'ok' | 'fail' = 'ok';
  private handler: ((from: string, data: unknown) => void) | null = null;
  send(to: string | null, data: unknown): Promise<void> {
    this.sent.push({ to, data: data as Record<string, unknown> });
    return this.mode === 'ok' ? Promise.resolve() : Promise.reject(new Error('rate_limited'));
  }
  onMessage(handler: (from: string, data: unknown) => void) {
    this.handler = handler;
    return () => {
      this.handler = null;
    };
  }
  deliver(from: string, data: unknown) {
    this.handler?.(from, data);
  }
  take(): { to: string | null; data: Record<string, unknown> }[] {
    return this.sent.splice(0);
  }
}

class FakeRoster implements RosterSource {
  state: RosterView = {
    phase: 'joined',
    self: { id: 'p-me', name: 'Me' },
    participants: people(['p-ada', 'Ada'], ['p-bob', 'Bob']),
  };
  private listeners = new Set<(s: RosterView) => void>();
  getState() {
    return this.state;
  }
  subscribe(l: (s: RosterView) => void) {
    this.listeners.add(l);
    return () => void this.listeners.delete(l);
  }
  update(patch: Partial<RosterView>) {
    this.state = { ...this.state, ...patch };
    for (const l of [...this.listeners]) l(this.state);
  }
  join(id: string, name: string) {
    const participants = new Map(this.state.participants);
    participants.set(id, { name });
    this.update({ participants });
  }
  leave(id: string) {
    const participants = new Map(this.state.participants);
    participants.delete(id);
    this.update({ participants });
  }
}

const flush = () => new Promise<void>((r) => queueMicrotask(r)).then(() => undefined);

describe('Social', () => {
  let roster: FakeRoster;
  let net: FakeTransport;
  let social: Social;
  let ids: number;

  beforeEach(() => {
    vi.useFakeTimers();
    vi.setSystemTime(1_000_000);
    roster = new FakeRoster();
    net = new FakeTransport();
    ids = 0;
    social = new Social(roster, net, { newId: () => `id${++ids}` });
  });
  afterEach(() => {
    social.dispose();
    vi.useRealTimers();
  });

  test('sendChat lists the message as pending, then sent', async () => {
    expect(social.sendChat('  hello  ')).toBe(true);
    expect(social.getState().messages).toEqual([
      { id: 'id1', from: 'p-me', name: 'Me', self: true, text: 'hello', at: 1_000_000, status: 'pending' },
    ]);
    expect(net.take()).toEqual([{ to: null, data: { t: WIRE_TAG, kind: 'chat', id: 'id1', text: 'hello' } }]);
    await flush();
    expect(social.getState().messages[0].status).toBe('sent');
    expect(social.getState().unread).toBe(0);
  });

  test('nothing to send: false, nothing listed or sent', () => {
    expect(social.sendChat('  \n ')).toBe(false);
    expect(social.sendChat('x'.repeat(CHAT_MAX_CHARS + 1))).toBe(false);
    expect(social.getState().messages).toEqual([]);
    expect(net.sent).toEqual([]);
  });

  test('a failed send is marked failed, and a retry sends the same id again', async () => {
    net.mode = 'fail';
    social.sendChat('hi');
    await flush();
    expect(social.getState().messages[0].status).toBe('failed');
    net.mode = 'ok';
    net.take();
    social.retry('id1');
    expect(social.getState().messages[0].status).toBe('pending');
    expect(net.take()).toEqual([{ to: null, data: { t: WIRE_TAG, kind: 'chat', id: 'id1', text: 'hi' } }]);
    await flush();
    expect(social.getState().messages[0].status).toBe('sent');
    social.retry('id1'); // not failed: nothing
    expect(net.sent).toEqual([]);
  });

  test('received messages: unread while closed, none while open, unknown senders ignored', () => {
    net.deliver('p-ada', chat('a1', 'one'));
    net.deliver('p-ada', chat('a2', 'two'));
    net.deliver('p-nobody', chat('x1', 'spoof'));
    net.deliver('p-bob', chat('b1', 'three', { name: 'Ada' }));
    expect(social.getState().unread).toBe(3);
    expect(social.getState().messages.map((m) => `${m.name}: ${m.text}`)).toEqual(['Ada: one', 'Ada: two', 'Bob: three']);
    social.setChatOpen(true);
    expect(social.getState().unread).toBe(0);
    net.deliver('p-bob', chat('b2', 'four'));
    expect(social.getState().unread).toBe(0);
    social.setChatOpen(false);
    net.deliver('p-bob', chat('b3', 'five'));
    expect(social.getState().unread).toBe(1);
  });

  test('the name is the roster’s when the message arrived, even after the sender leaves', () => {
    net.deliver('p-ada', chat('a1', 'bye'));
    roster.leave('p-ada');
    net.deliver('p-ada', chat('a2', 'ghost'));
    expect(social.getState().messages.map((m) => `${m.name}: ${m.text}`)).toEqual(['Ada: bye']);
  });

  test('our hand goes to everyone when it changes, and to a newcomer alone while it is up', () => {
    social.setHand(true);
    expect(social.getState().handRaised).toBe(true);
    expect(social.getState().hands.get('p-me')).toBe(1_000_000);
    expect(net.take()).toEqual([{ to: null, data: { t: WIRE_TAG, kind: 'hand', raised: true, age: 0 } }]);

    vi.advanceTimersByTime(5000);
    roster.join('p-cy', 'Cy');
    expect(net.take()).toEqual([{ to: 'p-cy', data: { t: WIRE_TAG, kind: 'hand', raised: true, age: 5000 } }]);
    // Other roster changes (tracks, speaking) send nothing.
    roster.update({ participants: new Map(roster.state.participants) });
    expect(net.sent).toEqual([]);

    social.setHand(false);
    expect(net.take()).toEqual([{ to: null, data: { t: WIRE_TAG, kind: 'hand', raised: false } }]);
    expect(social.getState().hands.has('p-me')).toBe(false);
    roster.join('p-dee', 'Dee');
    expect(net.sent).toEqual([]);
  });

  test('a late joiner sees the hands in the order they went up', () => {
    // Dee joins after Ada (up for 9 s) and Bob (up for 2 s) raised theirs; Bob answers first.
    net.deliver('p-bob', hand(true, { age: 2000 }));
    net.deliver('p-ada', hand(true, { age: 9000 }));
    const order = [...social.getState().hands].sort((a, b) => a[1] - b[1]).map(([id]) => id);
    expect(order).toEqual(['p-ada', 'p-bob']);
  });

  test('a participant who leaves loses their hand', () => {
    net.deliver('p-ada', hand(true));
    net.deliver('p-bob', hand(true));
    expect([...social.getState().hands.keys()]).toEqual(['p-ada', 'p-bob']);
    roster.leave('p-ada');
    expect([...social.getState().hands.keys()]).toEqual(['p-bob']);
    // Ada's own "down" arriving late changes nothing (she is not in the roster).
    const before = social.getState();
    net.deliver('p-ada', hand(false));
    expect(social.getState()).toBe(before);
  });

  test('after reconnecting: ours said again, the others asked again and their old hands forgotten', async () => {
    social.setHand(true);
    net.deliver('p-ada', hand(true));
    net.take();
    roster.update({ phase: 'reconnecting' });
    vi.advanceTimersByTime(3000);
    roster.update({ phase: 'joined' }); // resumed, same id
    expect(net.take()).toEqual([
      { to: null, data: { t: WIRE_TAG, kind: 'hand_query' } },
      { to: null, data: { t: WIRE_TAG, kind: 'hand', raised: true, age: 3000 } },
    ]);
    expect([...social.getState().hands.keys()]).toEqual(['p-me']);
    net.deliver('p-ada', hand(true, { age: 4000 }));
    expect(social.getState().hands.get('p-ada')).toBe(1_003_000 - 4000);
  });

  test('a fresh rejoin moves our hand to our new id', () => {
    social.setHand(true);
    roster.update({ phase: 'reconnecting' });
    roster.update({ phase: 'joined', self: { id: 'p-me2', name: 'Me' } });
    expect([...social.getState().hands]).toEqual([['p-me2', 1_000_000]]);
  });

  test('a hand change that could not be sent is sent after reconnecting, even a lowered one', async () => {
    social.setHand(true);
    roster.update({ phase: 'reconnecting' });
    net.mode = 'fail';
    social.setHand(false);
    await flush();
    net.mode = 'ok';
    net.take();
    roster.update({ phase: 'joined' });
    expect(net.take()).toEqual([
      { to: null, data: { t: WIRE_TAG, kind: 'hand_query' } },
      { to: null, data: { t: WIRE_TAG, kind: 'hand', raised: false } },
    ]);
  });

  test('a hand_query is answered to the asker alone, only with a hand up, not more than once per interval', () => {
    net.deliver('p-ada', { t: WIRE_TAG, kind: 'hand_query' });
    expect(net.take()).toEqual([]);
    social.setHand(true);
    net.take();
    net.deliver('p-ada', { t: WIRE_TAG, kind: 'hand_query' });
    net.deliver('p-ada', { t: WIRE_TAG, kind: 'hand_query' });
    net.deliver('p-nobody', { t: WIRE_TAG, kind: 'hand_query' });
    expect(net.take()).toEqual([{ to: 'p-ada', data: { t: WIRE_TAG, kind: 'hand', raised: true, age: 0 } }]);
    vi.advanceTimersByTime(HAND_QUERY_INTERVAL_MS);
    net.deliver('p-ada', { t: WIRE_TAG, kind: 'hand_query' });
    expect(net.take()).toHaveLength(1);
  });

  test('reactions show, go after 4 s by the timer, and ours are limited', () => {
    expect(social.react(THUMBS)).toBe(true);
    expect(social.react(THUMBS)).toBe(false); // too soon
    expect(net.take()).toEqual([{ to: null, data: { t: WIRE_TAG, kind: 'reaction', emoji: THUMBS } }]);
    vi.advanceTimersByTime(REACT_INTERVAL_MS - 1);
    expect(social.react(THUMBS)).toBe(false);
    vi.advanceTimersByTime(1);
    expect(social.react(REACTIONS[2].emoji)).toBe(true);
    net.deliver('p-ada', reaction(REACTIONS[5].emoji));
    net.deliver('p-nobody', reaction(THUMBS));
    expect(social.getState().reactions.map((r) => `${r.name}:${r.emoji}:${r.self}`)).toEqual([
      `Me:${THUMBS}:true`,
      `Me:${REACTIONS[2].emoji}:true`,
      `Ada:${REACTIONS[5].emoji}:false`,
    ]);
    // The first went up at t0, the other two at t0+250.
    vi.advanceTimersByTime(REACTION_TTL_MS - REACT_INTERVAL_MS);
    expect(social.getState().reactions).toHaveLength(2);
    vi.advanceTimersByTime(REACT_INTERVAL_MS - 1);
    expect(social.getState().reactions).toHaveLength(2);
    vi.advanceTimersByTime(1);
    expect(social.getState().reactions).toEqual([]);
  });

  test('subscribers hear every change; dispose stops everything', () => {
    const seen: SocialState[] = [];
    social.subscribe((s) => seen.push(s));
    net.deliver('p-ada', chat('a1', 'x'));
    expect(seen).toHaveLength(1);
    net.deliver('p-ada', { junk: true });
    expect(seen).toHaveLength(1);
    social.dispose();
    net.deliver('p-ada', chat('a2', 'y'));
    roster.join('p-cy', 'Cy');
    expect(seen).toHaveLength(1);
    expect(social.getState().messages).toHaveLength(1);
  });
});
