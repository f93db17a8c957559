// Chat, raised hands and reactions: what the meeting's people say to each other beside
// audio and video. Everything travels as relay blobs (docs/protocol.md, `relay`) over a
// small transport interface, so that the end-to-end encryption layer can later wrap the
// payloads without this module changing.
//
// Wire format, version 1. Every payload is a JSON object
//
//   { "t": "conclave/1", "kind": <kind>, ...fields of that kind }
//
//   kind "chat"        id: string, 1–64 of [A-Za-z0-9_-], chosen by the sender, unique per
//                      sender (a retry reuses it, so receivers drop the duplicate)
//                      text: string, at most 2000 UTF-16 code units, not empty after
//                      trimming, no control characters but "\n" and "\t", no unpaired
//                      surrogates. Sent to everyone.
//   kind "hand"        raised: boolean
//                      age?: integer ms, 0–86 400 000: how long the hand has been up, so a
//                      late joiner orders hands by when they went up (a duration, not a
//                      time: the two clocks need not agree). Sent to everyone when it
//                      changes, to a newcomer alone when it is up, and to whoever asks.
//   kind "hand_query"  no fields: "tell me your hand". Sent to everyone after we
//                      reconnect, because relays sent to us while our connection was
//                      down are lost (the server drops them); whoever has a hand up
//                      answers with "hand" to the asker alone.
//   kind "reaction"    emoji: exactly one of REACTIONS[].emoji. Sent to everyone.
//
// Receiving: anything else (other `t`, unknown kind, wrong types, out of range) is
// ignored without a word, and so is a payload from someone not in the roster right now.
// Unknown extra fields are ignored. The sender's name is taken from the roster when the
// payload arrives, never from the payload; its time is our clock when it arrives.
//
// Not done on purpose: no chat history is sent to people who join later (they see the
// messages sent while they are present, like in a room), and nothing is stored.
import { useEffect, useState } from 'preact/hooks';
import type { MeetingSession } from '../session';

// ---------------------------------------------------------------- transport

/** Where social payloads go and come from: today the session's relay, later a layer that
 *  encrypts them end to end. `from` is a participant id vouched for by the layer below. */
export interface RelayTransport {
  /** To one participant, or with `to` null to everyone else. Rejects when not sent. */
  send(to: string | null, data: unknown): Promise<void>;
  onMessage(handler: (from: string, data: unknown) => void): () => void;
}

export function sessionTransport(session: Pick<MeetingSession, 'sendRelay' | 'onRelay'>): RelayTransport {
  return {
    // Chat is tagged so that the server can refuse it while a host has chat off (it cannot
    // read what it relays); everything else goes untagged.
    send: (to, data) =>
      session.sendRelay(to, data, (data as { kind?: unknown } | null)?.kind === 'chat' ? 'chat' : undefined),
    onMessage: (handler) => session.onRelay(handler),
  };
}

/** The part of the session's state this module reads (MeetingSession fits it). */
export interface RosterView {
  phase: string;
  self: { id: string; name: string } | null;
  participants: ReadonlyMap<string, { name: string }>;
  /** The meeting's settings: chat received while a host has it off is dropped. */
  settings?: { chat: boolean } | null;
}

export interface RosterSource {
  getState(): RosterView;
  subscribe(listener: (s: RosterView) => void): () => void;
}

// ---------------------------------------------------------------- wire format

export const WIRE_TAG = 'conclave/1';
export const CHAT_MAX_CHARS = 2000;
export const CHAT_MAX_MESSAGES = 500;
export const ID_MAX_CHARS = 64;
export const HAND_AGE_MAX_MS = 86_400_000;
export const REACTION_TTL_MS = 4000;
export const REACTIONS_MAX = 20;
/** Shown at once from one sender: whoever floods (a modified client) cannot take over
 *  the overlay. An ordinary client sends at most 16 in REACTION_TTL_MS. */
export const REACTIONS_PER_SENDER_MAX = 6;
/** Our own reactions: at most one per this many ms. */
export const REACT_INTERVAL_MS = 250;
/** Answers to one asker's hand_query: at most one per this many ms. */
export const HAND_QUERY_INTERVAL_MS = 2000;

/** The reactions on offer; `key` names the text of each in strings (reactionNames). */
export const REACTIONS = [
  { key: 'thumbsUp', emoji: '\u{1F44D}' },
  { key: 'applause', emoji: '\u{1F44F}' },
  { key: 'heart', emoji: '\u2764\uFE0F' },
  { key: 'laughter', emoji: '\u{1F602}' },
  { key: 'surprise', emoji: '\u{1F62E}' },
  { key: 'celebration', emoji: '\u{1F389}' },
] as const;
export type ReactionEmoji = (typeof REACTIONS)[number]['emoji'];
export type ReactionKey = (typeof REACTIONS)[number]['key'];
const REACTION_SET: ReadonlySet<string> = new Set(REACTIONS.map((r) => r.emoji));

export function reactionKey(emoji: ReactionEmoji): ReactionKey {
  return REACTIONS.find((r) => r.emoji === emoji)!.key;
}

export type WireMessage =
  | { t: typeof WIRE_TAG; kind: 'chat'; id: string; text: string }
  | { t: typeof WIRE_TAG; kind: 'hand'; raised: boolean; age?: number }
  | { t: typeof WIRE_TAG; kind: 'hand_query' }
  | { t: typeof WIRE_TAG; kind: 'reaction'; emoji: ReactionEmoji };

const ID_RE = /^[A-Za-z0-9_-]{1,64}$/;
// C0 but tab and newline, DEL, C1.
const CONTROL_RE = /[\u0000-\u0008\u000B-\u001F\u007F-\u009F]/;
const LONE_SURROGATE_RE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** The chat text as received, trimmed, or null if it breaks the rules above. */
export function validChatText(text: unknown): string | null {
  if (typeof text !== 'string' || text.length > CHAT_MAX_CHARS) return null;
  if (CONTROL_RE.test(text) || LONE_SURROGATE_RE.test(text)) return null;
  const trimmed = text.trim();
  return trimmed.length > 0 ? trimmed : null;
}

/** The payload as a WireMessage, or null if it is not a valid one. */
export function parseWire(data: unknown): WireMessage | null {
  if (typeof data !== 'object' || data === null || Array.isArray(data)) return null;
  const m = data as Record<string, unknown>;
  if (m.t !== WIRE_TAG) return null;
  switch (m.kind) {
    case 'chat': {
      if (typeof m.id !== 'string' || !ID_RE.test(m.id)) return null;
      const text = validChatText(m.text);
      return text === null ? null : { t: WIRE_TAG, kind: 'chat', id: m.id, text };
    }
    case 'hand': {
      if (typeof m.raised !== 'boolean') return null;
      if (m.age === undefined) return { t: WIRE_TAG, kind: 'hand', raised: m.raised };
      if (typeof m.age !== 'number' || !Number.isInteger(m.age) || m.age < 0 || m.age > HAND_AGE_MAX_MS) return null;
      return { t: WIRE_TAG, kind: 'hand', raised: m.raised, age: m.age };
    }
    case 'hand_query':
      return { t: WIRE_TAG, kind: 'hand_query' };
    case 'reaction':
      if (typeof m.emoji !== 'string' || !REACTION_SET.has(m.emoji)) return null;
      return { t: WIRE_TAG, kind: 'reaction', emoji: m.emoji as ReactionEmoji };
    default:
      return null;
  }
}

/**
 * What we send for what was typed: line breaks made "\n", other control characters and
 * unpaired surrogates (which the receivers would refuse) taken out, trimmed. Null when
 * nothing is left or it is over CHAT_MAX_CHARS.
 */
export function outgoingChatText(typed: string): string | null {
  const text = typed
    .replace(/\r\n?/g, '\n')
    .replace(new RegExp(CONTROL_RE.source, 'g'), '')
    .replace(new RegExp(LONE_SURROGATE_RE.source, 'g'), '\uFFFD')
    .trim();
  return text.length > 0 && text.length <= CHAT_MAX_CHARS ? text : null;
}

// ---------------------------------------------------------------- state

export type ChatStatus = 'sent' | 'pending' | 'failed';

export interface ChatMessage {
  id: string;
  /** The sender's participant id (ours for our own). */
  from: string;
  /** The sender's name from the roster when it arrived (ours for our own). */
  name: string;
  self: boolean;
  text: string;
  /** Our clock, ms: when it arrived, or when we sent it. */
  at: number;
  /** Always 'sent' for others' messages. */
  status: ChatStatus;
}

export interface Reaction {
  /** Unique within this client, for list keys. */
  id: string;
  from: string;
  name: string;
  self: boolean;
  emoji: ReactionEmoji;
  at: number;
}

export interface SocialState {
  /** Oldest first, at most CHAT_MAX_MESSAGES. */
  messages: readonly ChatMessage[];
  /** Others' messages that arrived while the chat was closed. */
  unread: number;
  chatOpen: boolean;
  /** Raised hands, ours included: participant id → when it went up (our clock, ms). */
  hands: ReadonlyMap<string, number>;
  /** Our own hand. */
  handRaised: boolean;
  /** Shown now, oldest first. */
  reactions: readonly Reaction[];
  /** Counter for reaction ids. */
  seq: number;
}

export const initialSocialState: SocialState = {
  messages: [],
  unread: 0,
  chatOpen: false,
  hands: new Map(),
  handRaised: false,
  reactions: [],
  seq: 0,
};

// Pure reducers: each returns `s` itself when nothing changes, so subscribers can skip.

/** Appends a message, dropping the oldest beyond CHAT_MAX_MESSAGES. A message whose
 *  (from, id) is already there is a duplicate (a retry that had got through) and dropped. */
export function addMessage(s: SocialState, m: ChatMessage): SocialState {
  if (s.messages.some((x) => x.id === m.id && x.from === m.from)) return s;
  const messages = [...s.messages, m];
  if (messages.length > CHAT_MAX_MESSAGES) messages.splice(0, messages.length - CHAT_MAX_MESSAGES);
  const unread = !m.self && !s.chatOpen ? Math.min(s.unread + 1, CHAT_MAX_MESSAGES) : s.unread;
  return { ...s, messages, unread };
}

/** Sets the status of our own message `id`. */
export function setMessageStatus(s: SocialState, id: string, status: ChatStatus): SocialState {
  const i = s.messages.findIndex((m) => m.self && m.id === id);
  if (i < 0 || s.messages[i].status === status) return s;
  const messages = [...s.messages];
  messages[i] = { ...messages[i], status };
  return { ...s, messages };
}

/** Opening the chat marks everything read. */
export function setChatOpen(s: SocialState, open: boolean): SocialState {
  if (s.chatOpen === open && (!open || s.unread === 0)) return s;
  return { ...s, chatOpen: open, unread: open ? 0 : s.unread };
}

/** Raises (at `at`, kept if already up) or lowers the hand of `id`. */
export function setHandOf(s: SocialState, id: string, raised: boolean, at: number): SocialState {
  if (raised === s.hands.has(id)) return s;
  const hands = new Map(s.hands);
  if (raised) hands.set(id, at);
  else hands.delete(id);
  return { ...s, hands };
}

/** Keeps only the hands of the ids `keep` accepts. */
export function keepHands(s: SocialState, keep: (id: string) => boolean): SocialState {
  const gone = [...s.hands.keys()].filter((id) => !keep(id));
  if (gone.length === 0) return s;
  const hands = new Map(s.hands);
  for (const id of gone) hands.delete(id);
  return { ...s, hands };
}

/** Shows a reaction: beyond REACTIONS_PER_SENDER_MAX from its sender it is not shown, and
 *  beyond REACTIONS_MAX in all the oldest goes. Expired ones are dropped first. */
export function addReaction(s: SocialState, r: Omit<Reaction, 'id'>, now: number): SocialState {
  const live = s.reactions.filter((x) => x.at + REACTION_TTL_MS > now);
  if (live.filter((x) => x.from === r.from).length >= REACTIONS_PER_SENDER_MAX) {
    return live.length === s.reactions.length ? s : { ...s, reactions: live };
  }
  const reactions = [...live, { ...r, id: `r${s.seq}` }];
  if (reactions.length > REACTIONS_MAX) reactions.splice(0, reactions.length - REACTIONS_MAX);
  return { ...s, reactions, seq: s.seq + 1 };
}

/** Drops reactions shown for REACTION_TTL_MS or longer. */
export function expireReactions(s: SocialState, now: number): SocialState {
  const reactions = s.reactions.filter((x) => x.at + REACTION_TTL_MS > now);
  return reactions.length === s.reactions.length ? s : { ...s, reactions };
}

export interface ReceiveContext {
  selfId: string | null;
  /** The others now in the meeting. */
  participants: ReadonlyMap<string, { name: string }>;
  now: number;
}

/** Applies one received payload (chat, hand, reaction; a hand_query changes nothing). */
export function applyIncoming(s: SocialState, from: string, data: unknown, ctx: ReceiveContext): SocialState {
  if (from === ctx.selfId) return s;
  const sender = ctx.participants.get(from);
  if (!sender) return s;
  const m = parseWire(data);
  if (!m) return s;
  switch (m.kind) {
    case 'chat':
      return addMessage(s, { id: m.id, from, name: sender.name, self: false, text: m.text, at: ctx.now, status: 'sent' });
    case 'hand':
      return setHandOf(s, from, m.raised, ctx.now - (m.age ?? 0));
    case 'reaction':
      return addReaction(s, { from, name: sender.name, self: false, emoji: m.emoji, at: ctx.now }, ctx.now);
    case 'hand_query':
      return s;
  }
}

/** Messages of one sender in a row, each within CHAT_GROUP_GAP_MS of the one before. */
export interface ChatGroup {
  key: string;
  from: string;
  self: boolean;
  name: string;
  messages: ChatMessage[];
}

export const CHAT_GROUP_GAP_MS = 5 * 60_000;

export function groupMessages(messages: readonly ChatMessage[]): ChatGroup[] {
  const groups: ChatGroup[] = [];
  let last: ChatMessage | null = null;
  for (const m of messages) {
    const g = groups[groups.length - 1];
    // Our own messages stay together across a fresh rejoin (new id, same person).
    const same = last && g && (m.self ? last.self : !last.self && last.from === m.from) && m.at - last.at < CHAT_GROUP_GAP_MS;
    if (same) g.messages.push(m);
    else groups.push({ key: `${m.from}/${m.id}`, from: m.from, self: m.self, name: m.name, messages: [m] });
    last = m;
  }
  return groups;
}

// ---------------------------------------------------------------- the store

type Listener = (s: SocialState) => void;

export interface SocialOptions {
  /** Makes chat message ids (default: 96 random bits, base64url). */
  newId?: () => string;
}

function randomId(): string {
  const b = crypto.getRandomValues(new Uint8Array(12));
  return btoa(String.fromCharCode(...b)).replace(/\+/g, '-').replace(/\//g, '_');
}

/**
 * Chat, hands and reactions of one meeting session. Make one per MeetingSession, e.g.
 * `new Social(session, sessionTransport(session))`, and dispose() it with the session.
 */
export class Social {
  /** What is typed in the chat box but not sent, kept while the panel is closed. */
  draft = '';
  private state: SocialState = initialSocialState;
  private readonly listeners = new Set<Listener>();
  private readonly newId: () => string;
  private readonly stops: (() => void)[] = [];

  private phase = '';
  private selfId: string | null = null;
  /** Participant ids we have seen while joined, to tell newcomers apart. */
  private known = new Set<string>();
  /** Our hand changed but could not be sent: said again after reconnecting. */
  private handOwed = false;
  private lastReact = -Infinity;
  private readonly queryAnswered = new Map<string, number>();
  private reactionTimer: ReturnType<typeof setTimeout> | null = null;

  constructor(
    private readonly roster: RosterSource,
    private readonly transport: RelayTransport,
    options: SocialOptions = {},
  ) {
    this.newId = options.newId ?? randomId;
    this.stops.push(transport.onMessage((from, data) => this.receive(from, data)));
    this.onRoster(roster.getState());
    this.stops.push(roster.subscribe((r) => this.onRoster(r)));
  }

  getState(): SocialState {
    return this.state;
  }

  subscribe(listener: Listener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  dispose(): void {
    for (const stop of this.stops.splice(0)) stop();
    if (this.reactionTimer !== null) clearTimeout(this.reactionTimer);
    this.reactionTimer = null;
    this.listeners.clear();
  }

  // ---------------------------------------------------------------- actions

  /** Sends a chat message to everyone. False (and nothing sent) when the text is empty or
   *  too long; otherwise it is listed at once as pending, then sent or failed. */
  sendChat(typed: string): boolean {
    const text = outgoingChatText(typed);
    if (text === null) return false;
    const self = this.roster.getState().self;
    const id = this.newId();
    this.set(
      addMessage(this.state, {
        id,
        from: self?.id ?? '',
        name: self?.name ?? '',
        self: true,
        text,
        at: Date.now(),
        status: 'pending',
      }),
    );
    this.deliver(id, text);
    return true;
  }

  /** Sends a failed message of ours again (same id: a receiver who got it drops it). */
  retry(id: string): void {
    const m = this.state.messages.find((x) => x.self && x.id === id);
    if (!m || m.status !== 'failed') return;
    this.set(setMessageStatus(this.state, id, 'pending'));
    this.deliver(id, m.text);
  }

  setHand(raised: boolean): void {
    if (raised === this.state.handRaised) return;
    const now = Date.now();
    let s = { ...this.state, handRaised: raised };
    if (this.selfId !== null) s = setHandOf(s, this.selfId, raised, now);
    this.set(s);
    this.sendHand(null);
  }

  /** Shows and sends a reaction; false when it comes too soon after the last one. */
  react(emoji: ReactionEmoji): boolean {
    if (!REACTION_SET.has(emoji)) return false;
    const now = Date.now();
    if (now - this.lastReact < REACT_INTERVAL_MS) return false;
    this.lastReact = now;
    const self = this.roster.getState().self;
    this.set(addReaction(this.state, { from: self?.id ?? '', name: self?.name ?? '', self: true, emoji, at: now }, now));
    this.transport.send(null, { t: WIRE_TAG, kind: 'reaction', emoji }).catch(() => {});
    return true;
  }

  /** Whether the chat is shown; opening it marks everything read. */
  setChatOpen(open: boolean): void {
    this.set(setChatOpen(this.state, open));
  }

  // ---------------------------------------------------------------- internals

  private set(s: SocialState): void {
    if (s === this.state) return;
    const hadReactions = s.reactions !== this.state.reactions;
    this.state = s;
    if (hadReactions) this.scheduleExpiry();
    for (const l of [...this.listeners]) l(s);
  }

  private deliver(id: string, text: string): void {
    this.transport.send(null, { t: WIRE_TAG, kind: 'chat', id, text }).then(
      () => this.set(setMessageStatus(this.state, id, 'sent')),
      () => this.set(setMessageStatus(this.state, id, 'failed')),
    );
  }

  private handPayload(): WireMessage {
    const raised = this.state.handRaised;
    const at = this.selfId !== null ? this.state.hands.get(this.selfId) : undefined;
    const age = raised && at !== undefined ? Math.min(HAND_AGE_MAX_MS, Math.max(0, Date.now() - at)) : undefined;
    return age === undefined ? { t: WIRE_TAG, kind: 'hand', raised } : { t: WIRE_TAG, kind: 'hand', raised, age };
  }

  /** Our hand to everyone (`to` null) or to one person. Only a failed send to everyone
   *  is owed: a newcomer who cannot be reached has left, and an asker asks again. */
  private sendHand(to: string | null): void {
    if (to === null) this.handOwed = false;
    this.transport.send(to, this.handPayload()).catch(() => {
      if (to === null) this.handOwed = true;
    });
  }

  private receive(from: string, data: unknown): void {
    // The roster as the session has it at this very moment, not as last published to us.
    const r = this.roster.getState();
    if (r.settings && !r.settings.chat && parseWire(data)?.kind === 'chat') return;
    const ctx: ReceiveContext = { selfId: r.self?.id ?? null, participants: r.participants, now: Date.now() };
    this.set(applyIncoming(this.state, from, data, ctx));
    if (this.state.handRaised && ctx.participants.has(from) && parseWire(data)?.kind === 'hand_query') {
      const last = this.queryAnswered.get(from) ?? -Infinity;
      if (ctx.now - last >= HAND_QUERY_INTERVAL_MS) {
        this.queryAnswered.set(from, ctx.now);
        this.sendHand(from);
      }
    }
  }

  private onRoster(r: RosterView): void {
    const prevPhase = this.phase;
    const prevSelf = this.selfId;
    this.phase = r.phase;
    this.selfId = r.self?.id ?? null;

    let s = this.state;
    if (this.selfId !== prevSelf) {
      // A fresh rejoin gives us a new id: our hand moves with us.
      const at = prevSelf !== null ? s.hands.get(prevSelf) : undefined;
      if (prevSelf !== null) s = setHandOf(s, prevSelf, false, 0);
      if (this.selfId !== null && s.handRaised) s = setHandOf(s, this.selfId, true, at ?? Date.now());
    }
    const selfId = this.selfId;
    s = keepHands(s, (id) => id === selfId || r.participants.has(id));
    for (const id of this.queryAnswered.keys()) if (!r.participants.has(id)) this.queryAnswered.delete(id);

    if (r.phase !== 'joined') {
      this.set(s);
      return;
    }
    if (prevPhase !== 'joined') {
      this.known = new Set(r.participants.keys());
      if (prevPhase === 'reconnecting') {
        // What others did while we were away did not reach us: forget their hands and
        // ask again; say ours again in case our own change was lost the same way.
        s = keepHands(s, (id) => id === selfId);
        this.set(s);
        this.transport.send(null, { t: WIRE_TAG, kind: 'hand_query' }).catch(() => {});
        if (s.handRaised || this.handOwed) this.sendHand(null);
        return;
      }
      this.set(s);
      if (this.handOwed) this.sendHand(null);
      return;
    }
    this.set(s);
    const newcomers = [...r.participants.keys()].filter((id) => !this.known.has(id));
    this.known = new Set(r.participants.keys());
    if (this.state.handRaised) for (const id of newcomers) this.sendHand(id);
  }

  private scheduleExpiry(): void {
    if (this.reactionTimer !== null) clearTimeout(this.reactionTimer);
    this.reactionTimer = null;
    const rs = this.state.reactions;
    if (rs.length === 0) return;
    const next = Math.min(...rs.map((x) => x.at)) + REACTION_TTL_MS;
    this.reactionTimer = setTimeout(() => {
      this.reactionTimer = null;
      const s = expireReactions(this.state, Date.now());
      if (s === this.state) this.scheduleExpiry();
      else this.set(s);
    }, Math.max(0, next - Date.now()));
  }
}

/** The Social's state as Preact state. */
export function useSocial(social: Social): SocialState {
  const [state, setState] = useState(() => social.getState());
  useEffect(() => {
    setState(social.getState());
    return social.subscribe(setState);
  }, [social]);
  return state;
}
