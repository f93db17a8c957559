// Reactions: the emoji floating over the stage for a few seconds, and the menu to send
// one. The overlay never takes pointer events, so the tiles under it stay usable.
import { useEffect, useLayoutEffect, useRef, useState } from 'preact/hooks';
import { t } from '../strings';
import { REACTIONS, reactionKey, useSocial, type Reaction, type Social } from './social';
import './social.css';

/** Screen readers hear at most one reaction per this many ms (the rest only show). */
const ANNOUNCE_INTERVAL_MS = 1500;
/** The menu keeps this far from the window's edges (px). */
const EDGE_PX = 8;

/** A stable horizontal place (percent of the width) for one reaction, so that several at
 *  once do not cover each other. */
function placeOf(id: string): number {
  let h = 0;
  for (let i = 0; i < id.length; i++) h = (h * 31 + id.charCodeAt(i)) >>> 0;
  return 4 + ((h * 2654435761) >>> 0) % 37; // 4 … 40 %: the left part, clear of panels
}

/**
 * The reactions shown now, over the stage. Put it in a positioned element (position:
 * relative) that covers the stage; it fills that element.
 */
export function ReactionOverlay({ social }: { social: Social }) {
  const state = useSocial(social);
  const announced = useRef<{ id: string | null; at: number }>({ id: null, at: -Infinity });
  const [live, setLive] = useState<{ id: string; text: string } | null>(null);

  useEffect(() => {
    const newest = [...state.reactions].reverse().find((r) => !r.self);
    if (!newest || newest.id === announced.current.id) return;
    const now = Date.now();
    if (now - announced.current.at < ANNOUNCE_INTERVAL_MS) return;
    announced.current = { id: newest.id, at: now };
    setLive({ id: newest.id, text: t.reactionAnnounce(newest.name, t.reactionNames[reactionKey(newest.emoji)]) });
  }, [state.reactions]);

  useEffect(() => {
    if (!live) return;
    const timer = setTimeout(() => setLive(null), ANNOUNCE_INTERVAL_MS * 2);
    return () => clearTimeout(timer);
  }, [live]);

  return (
    <div class="reaction-overlay">
      <div aria-hidden="true">
        {state.reactions.map((r) => (
          <Bubble key={r.id} r={r} />
        ))}
      </div>
      <div class="sr-only" aria-live="polite" aria-atomic="true">
        {live && <p key={live.id}>{live.text}</p>}
      </div>
    </div>
  );
}

function Bubble({ r }: { r: Reaction }) {
  return (
    <div class="reaction" data-reaction={reactionKey(r.emoji)} data-from={r.from} style={{ '--x': `${placeOf(r.id)}%` }}>
      <span class="reaction-emoji">{r.emoji}</span>
      <span class="reaction-name">{r.self ? t.reactionYou : r.name}</span>
    </div>
  );
}

/**
 * The six reaction buttons, as a toolbar: arrow keys move between them, Home and End go
 * to the ends, Escape calls onDone. It stays open after a reaction (people often send a
 * few); the caller closes it on Escape, on its own toggle, or when clicking elsewhere.
 * Focus goes to the first button when it opens.
 */
export function ReactionMenu({ social, onDone }: { social: Social; onDone: () => void }) {
  const root = useRef<HTMLDivElement>(null);
  const buttons = useRef<(HTMLButtonElement | null)[]>([]);
  const [current, setCurrent] = useState(0);

  useEffect(() => buttons.current[0]?.focus(), []);

  // Centred over its anchor, but shifted to stay inside the window when the anchor is
  // near an edge (otherwise the page would scroll sideways).
  useLayoutEffect(() => {
    const el = root.current;
    if (!el) return;
    const place = () => {
      el.style.setProperty('--shift', '0px');
      const r = el.getBoundingClientRect();
      const right = document.documentElement.clientWidth - EDGE_PX;
      let shift = r.right > right ? right - r.right : 0;
      if (r.left + shift < EDGE_PX) shift = EDGE_PX - r.left;
      el.style.setProperty('--shift', `${Math.round(shift)}px`);
    };
    place();
    addEventListener('resize', place);
    return () => removeEventListener('resize', place);
  }, []);

  const onKeyDown = (e: KeyboardEvent) => {
    const n = REACTIONS.length;
    let next: number | null = null;
    if (e.key === 'ArrowRight' || e.key === 'ArrowDown') next = (current + 1) % n;
    else if (e.key === 'ArrowLeft' || e.key === 'ArrowUp') next = (current + n - 1) % n;
    else if (e.key === 'Home') next = 0;
    else if (e.key === 'End') next = n - 1;
    else if (e.key === 'Escape') {
      e.preventDefault();
      e.stopPropagation();
      onDone();
      return;
    }
    if (next === null) return;
    e.preventDefault();
    setCurrent(next);
    buttons.current[next]?.focus();
  };

  return (
    <div ref={root} class="reaction-menu" role="toolbar" aria-label={t.reactionMenuLabel} onKeyDown={onKeyDown}>
      {REACTIONS.map((r, i) => {
        const name = t.reactionNames[r.key];
        return (
          <button
            key={r.key}
            ref={(el) => void (buttons.current[i] = el)}
            type="button"
            class="reaction-choice"
            tabIndex={i === current ? 0 : -1}
            aria-label={name}
            title={name}
            onFocus={() => setCurrent(i)}
            onClick={() => social.react(r.emoji)}
          >
            <span aria-hidden="true">{r.emoji}</span>
          </button>
        );
      })}
    </div>
  );
}
