// The chat side panel. Messages are shown as plain text only: never parsed for links,
// markup or previews, so nothing anyone types makes this page fetch anything.
//
// While mounted the chat counts as open (Social.setChatOpen), so nothing is unread. The
// list follows new messages while it is scrolled to the bottom; once the person scrolls up
// it stays put and offers "New messages". Screen readers hear each new message of the
// others once ("name: text") from a separate live region, not the whole list again.
import { useEffect, useLayoutEffect, useMemo, useRef, useState } from 'preact/hooks';
import { t } from '../strings';
import { CHAT_MAX_CHARS, groupMessages, type ChatMessage, type Social, type SocialState } from './social';
import { CloseIcon } from './icons';
import './social.css';

/** The counter shows from this many characters left. */
const COUNTER_FROM = 200;
/** Within this many pixels of the bottom counts as at the bottom. */
const BOTTOM_SLACK = 32;
/** Longer texts are cut for the screen reader announcement (the list has all of it). */
const ANNOUNCE_MAX = 300;
/** At most this many messages that came together are announced (the latest). */
const ANNOUNCE_AT_ONCE = 3;
/** How long an announcement stays in the live region. */
const LIVE_KEEP_MS = 5000;

/** Tallest the message box grows, in px (about six lines). */
const BOX_MAX_PX = 144;
const FIELD_SIZING = typeof CSS !== 'undefined' && CSS.supports('field-sizing', 'content');

const clock = new Intl.DateTimeFormat(undefined, { hour: '2-digit', minute: '2-digit' });
const keyOf = (m: ChatMessage) => `${m.from}/${m.id}`;

export function ChatPanel({
  social,
  state,
  onClose,
  autoFocus = true,
  announce = true,
  chatOff = false,
}: {
  social: Social;
  /** useSocial(social). */
  state: SocialState;
  onClose: () => void;
  /** Puts the focus in the message box when the panel opens. */
  autoFocus?: boolean;
  /** A host turned chat off: the box is disabled and says why. */
  chatOff?: boolean;
  /** Announces others' new messages; false if the caller announces them elsewhere. */
  announce?: boolean;
}) {
  const [draft, setDraftState] = useState(social.draft);
  const setDraft = (v: string) => {
    social.draft = v;
    setDraftState(v);
  };
  const box = useRef<HTMLTextAreaElement>(null);
  const log = useRef<HTMLDivElement>(null);
  const atBottom = useRef(true);
  const [behind, setBehind] = useState(false);
  /** The last message handled; undefined before the first render. */
  const lastKey = useRef<string | null | undefined>(undefined);
  const [live, setLive] = useState<{ key: string; text: string } | null>(null);

  useEffect(() => {
    social.setChatOpen(true);
    return () => social.setChatOpen(false);
  }, [social]);

  useLayoutEffect(() => {
    if (autoFocus) box.current?.focus();
  }, []);

  const toBottom = () => {
    const el = log.current;
    if (el) el.scrollTop = el.scrollHeight;
    atBottom.current = true;
    setBehind(false);
  };

  // Where the list was before this render's changes land (a scroll event may still be on
  // its way, so the flag can be stale). Measured only when the messages change: reading
  // layout in every keystroke's render would force a layout each time.
  const rendered = useRef(state.messages);
  let wasAtBottom = atBottom.current;
  if (rendered.current !== state.messages) {
    rendered.current = state.messages;
    const el = log.current;
    if (el) wasAtBottom = el.scrollHeight - el.scrollTop - el.clientHeight <= BOTTOM_SLACK;
  }

  // New messages: follow them if at the bottom (or if it is ours), else say there are
  // some below; and tell screen readers about the others' ones.
  useLayoutEffect(() => {
    atBottom.current = wasAtBottom;
    const msgs = state.messages;
    const prev = lastKey.current;
    const last = msgs[msgs.length - 1];
    lastKey.current = last ? keyOf(last) : null;
    if (prev === undefined) {
      if (last) toBottom(); // opening: start at the latest
      return;
    }
    if (!last || keyOf(last) === prev) {
      if (atBottom.current) toBottom(); // a status line came or went
      return;
    }
    // The previous last one is gone only if more than the cap arrived at once.
    const from = prev === null ? -1 : msgs.findIndex((m) => keyOf(m) === prev);
    const added = prev !== null && from < 0 ? [last] : msgs.slice(from + 1);
    const theirs = added.filter((m) => !m.self).slice(-ANNOUNCE_AT_ONCE);
    if (atBottom.current || added.some((m) => m.self)) toBottom();
    else if (theirs.length > 0) setBehind(true);
    if (announce && theirs.length > 0) {
      const text = theirs
        .map((m) => t.chatAnnounce(m.name, m.text.length > ANNOUNCE_MAX ? `${m.text.slice(0, ANNOUNCE_MAX)}\u2026` : m.text))
        .join('\n');
      setLive({ key: keyOf(theirs[theirs.length - 1]), text });
    }
  }, [state.messages]);

  // The box grows with what is typed, up to a few lines (CSS field-sizing does it where
  // supported).
  useLayoutEffect(() => {
    const el = box.current;
    if (!el || FIELD_SIZING) return;
    el.style.height = 'auto';
    el.style.height = `${Math.min(el.scrollHeight + 2, BOX_MAX_PX)}px`;
  }, [draft]);

  // Once said, the text goes: left there, a screen reader's browse mode would read it
  // again after the list.
  useEffect(() => {
    if (!live) return;
    const timer = setTimeout(() => setLive(null), LIVE_KEEP_MS);
    return () => clearTimeout(timer);
  }, [live]);

  // The panel shrinking (a phone's keyboard opening) keeps the latest in view.
  useEffect(() => {
    const el = log.current;
    if (!el || typeof ResizeObserver === 'undefined') return;
    const ro = new ResizeObserver(() => {
      if (atBottom.current) el.scrollTop = el.scrollHeight;
    });
    ro.observe(el);
    return () => ro.disconnect();
  }, []);

  const onScroll = () => {
    const el = log.current;
    if (!el) return;
    atBottom.current = el.scrollHeight - el.scrollTop - el.clientHeight <= BOTTOM_SLACK;
    if (atBottom.current) setBehind(false);
  };

  const send = () => {
    if (social.sendChat(draft)) setDraft('');
  };

  const onKeyDown = (e: KeyboardEvent) => {
    // Enter while an input method is composing confirms the composition, not the message.
    if (e.key !== 'Enter' || e.shiftKey || e.isComposing || e.keyCode === 229) return;
    e.preventDefault();
    send();
  };

  const groups = useMemo(() => groupMessages(state.messages), [state.messages]);
  const left = CHAT_MAX_CHARS - draft.length;
  const describedBy = left <= COUNTER_FROM ? 'chat-hint chat-count' : 'chat-hint';

  return (
    <aside class="panel chat-panel" aria-labelledby="chat-title">
      <div class="panel-head">
        <h2 id="chat-title">{t.chatTitle}</h2>
        <button type="button" class="icon-button" aria-label={t.chatClose} title={t.chatClose} onClick={onClose}>
          <CloseIcon />
        </button>
      </div>
      <div class="chat-log-wrap">
        {/* Focusable so the keyboard can scroll it; not live itself (see the top). */}
        <div class="chat-log" ref={log} onScroll={onScroll} tabIndex={0} role="log" aria-live="off" aria-labelledby="chat-title">
          {groups.length === 0 ? (
            <p class="chat-empty">{t.chatEmpty}</p>
          ) : (
            <ol class="chat-list">
              {groups.map((g) =>
                g.messages.map((m, i) => (
                  <li
                    key={keyOf(m)}
                    class={`chat-msg${i === 0 ? ' first' : ''}${m.self ? ' self' : ''}`}
                    data-chat-message
                    data-from={m.from}
                    data-chat-status={m.status}
                  >
                    {i === 0 ? (
                      <div class="chat-meta">
                        <span class="chat-name">{m.self ? t.chatYou : <bdi>{m.name}</bdi>}</span>
                        <time dateTime={new Date(m.at).toISOString()}>{clock.format(m.at)}</time>
                      </div>
                    ) : (
                      <span class="sr-only">{m.self ? t.chatYou : m.name}: </span>
                    )}
                    <p class="chat-text" dir="auto">
                      {m.text}
                    </p>
                    {m.status === 'failed' && (
                      <div class="chat-failed">
                        <span>{t.chatNotSent}</span>
                        <button type="button" class="chat-retry" onClick={() => social.retry(m.id)}>
                          {t.chatRetry}
                        </button>
                      </div>
                    )}
                  </li>
                )),
              )}
            </ol>
          )}
        </div>
        {behind && (
          <button type="button" class="chat-jump" onClick={toBottom}>
            {t.chatNewMessages}
          </button>
        )}
      </div>
      <form
        class="chat-form"
        onSubmit={(e) => {
          e.preventDefault();
          send();
          box.current?.focus();
        }}
      >
        <label for="chat-input" class="sr-only">
          {t.chatMessageLabel}
        </label>
        <div class="chat-compose">
          <textarea
            id="chat-input"
            ref={box}
            rows={1}
            maxLength={CHAT_MAX_CHARS}
            placeholder={t.chatPlaceholder}
            aria-describedby={describedBy}
            value={draft}
            disabled={chatOff}
            onInput={(e) => setDraft(e.currentTarget.value)}
            onKeyDown={onKeyDown}
          />
          <button type="submit" class="primary chat-send" disabled={chatOff}>
            {t.chatSend}
          </button>
        </div>
        {left <= COUNTER_FROM && (
          <span id="chat-count" class={`chat-count${left <= 20 ? ' low' : ''}`}>
            {t.chatCharsLeft(left)}
          </span>
        )}
        <span id="chat-hint" class="sr-only">
          {t.chatHint}
        </span>
        {chatOff && (
          <p class="hint" data-chat-off>
            {t.chatOffHint}
          </p>
        )}
      </form>
      <div class="sr-only" aria-live="polite" aria-atomic="true">
        {live && <p key={live.key}>{live.text}</p>}
      </div>
    </aside>
  );
}
