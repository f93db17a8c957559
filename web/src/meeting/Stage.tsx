// The video stage: a small toolbar (grid or speaker view, grid pages) and the tiles, laid
// out by layoutStage (tiles.ts) for the box the stage is given. What is large: the host's
// spotlight, else our pin, else the newest screen share, else (speaker view) the speaker;
// the rest go to a strip of thumbnails. Without any of those it is a paginated grid.
// Tiles on other grid pages are not rendered at all, so their videos are paused at the
// server (an unmounted tile reports no size).
import type { ComponentChildren } from 'preact';
import { useCallback, useEffect, useMemo, useRef, useState } from 'preact/hooks';
import { t } from '../strings';
import type { MeetingSession, MeetingState } from '../session';
import { GAP, buildTiles, followSpeaker, layoutStage, screenOrder, type Box, type LayoutMode, type LayoutRole, type TileModel } from './tiles';
import { Tile } from './Tile';
import { useNetworkQuality } from './quality';
import { useElementSize } from './useSession';
import { GridIcon, SpeakerViewIcon } from './icons';
import './stage.css';

export interface StageProps {
  state: MeetingState;
  session: MeetingSession;
  /** Raised hands: participant id → when raised (ms epoch). */
  hands?: ReadonlyMap<string, number>;
  /** Participant the host spotlighted for everyone (wins over pin and speaker). */
  spotlight?: string | null;
  /** Rendered in an overlay covering the tiles (reactions). */
  children?: ComponentChildren;
}

const LAYOUT_KEY = 'conclave.layout';
/** Phone widths, as the breakpoint of meeting.css. */
const NARROW_QUERY = '(max-width: 48rem)';

function loadMode(): LayoutMode {
  try {
    return localStorage.getItem(LAYOUT_KEY) === 'speaker' ? 'speaker' : 'grid';
  } catch {
    return 'grid';
  }
}

function saveMode(mode: LayoutMode): void {
  try {
    localStorage.setItem(LAYOUT_KEY, mode);
  } catch {
    // Storage refused (private mode): the choice lasts for this page only.
  }
}

function useMediaQuery(query: string): boolean {
  const [matches, setMatches] = useState(() => typeof matchMedia === 'function' && matchMedia(query).matches);
  useEffect(() => {
    if (typeof matchMedia !== 'function') return;
    const mq = matchMedia(query);
    const on = () => setMatches(mq.matches);
    on();
    mq.addEventListener('change', on);
    return () => mq.removeEventListener('change', on);
  }, [query]);
  return matches;
}

const NO_HANDS: ReadonlyMap<string, number> = new Map();

export function Stage({ state, session, hands = NO_HANDS, spotlight = null, children }: StageProps) {
  const tiles = useMemo(() => buildTiles(state), [state]);
  const [mode, setMode] = useState<LayoutMode>(loadMode);
  const [pinned, setPinned] = useState<string | null>(null);
  const [page, setPage] = useState(0);
  const [announcement, setAnnouncement] = useState('');
  const narrow = useMediaQuery(NARROW_QUERY);
  const area = useRef<HTMLDivElement>(null);
  const box = useElementSize(area);
  const quality = useNetworkQuality(session, state);

  // The little memory the layout rules need: the last remote speaker (kept while we talk)
  // and the order in which shares appeared (the newest is shown large).
  const speaker = useRef<string | null>(null);
  speaker.current = followSpeaker(speaker.current, state.dominant, state.self?.id ?? null);
  const screens = useRef<readonly string[]>([]);
  screens.current = screenOrder(screens.current, tiles);

  const layout = layoutStage({
    tiles,
    mode,
    pinned,
    spotlight,
    box,
    page,
    narrow,
    screenOrder: screens.current,
    speaker: speaker.current,
  });

  // A pinned tile that went away (its share stopped, its person left) is forgotten, so
  // that it does not jump back later; a page past the end becomes the last one.
  const pinnedGone = pinned !== null && !tiles.some((x) => x.key === pinned);
  useEffect(() => {
    if (pinnedGone) setPinned(null);
  }, [pinnedGone]);
  const measured = box.width > 0 && box.height > 0;
  useEffect(() => {
    if (measured && layout.page !== page) setPage(layout.page);
  }, [measured, layout.page, page]);

  // Only what the person does is announced; changes the meeting makes (a share starting,
  // the speaker changing) are visible but would be noise read aloud.
  const flip = useRef(false);
  const announce = useCallback((text: string) => {
    // Alternate a zero-width space so that the same words twice are still a change.
    flip.current = !flip.current;
    setAnnouncement(flip.current ? text : `${text}\u200b`);
  }, []);

  const pinnedRef = useRef(pinned);
  pinnedRef.current = pinned;
  const onPin = useCallback(
    (key: string, label: string) => {
      const unpin = pinnedRef.current === key;
      setPinned(unpin ? null : key);
      announce(unpin ? t.unpinnedAnnouncement(label) : t.pinnedAnnouncement(label));
    },
    [announce],
  );

  const choose = (next: LayoutMode) => {
    // Choosing a layout is also how to leave a pin: "Grid view" should show the grid.
    if (next === mode && pinned === null) return;
    setMode(next);
    setPinned(null);
    saveMode(next);
    announce(next === 'grid' ? t.stageSwitchedToGrid : t.stageSwitchedToSpeaker);
  };

  const goPage = (to: number) => {
    setPage(to);
    announce(t.stagePageOf(to + 1, layout.pages));
  };

  const tile = (x: TileModel, role: LayoutRole, size: Box | null) => (
    <Tile
      key={x.key}
      tile={x}
      session={session}
      role={role}
      size={size}
      hand={hands.has(x.participant)}
      quality={quality.get(x.participant) ?? 'unknown'}
      decrypt={x.trackId && !x.self ? state.decrypt.get(x.trackId) : undefined}
      pinned={pinned === x.key}
      spotlight={role === 'main' && layout.mainReason === 'spotlight'}
      onPin={onPin}
    />
  );

  const hasMain = layout.main.length > 0;
  const gridSize = layout.grid.tileWidth > 0 ? { width: layout.grid.tileWidth, height: layout.grid.tileHeight } : null;
  const thumbSize = layout.thumb.width > 0 ? layout.thumb : null;
  const mainSize = layout.mainSize.width > 0 ? layout.mainSize : null;

  return (
    <div class="stage" role="region" aria-label={t.videosLabel} data-layout={hasMain ? 'main' : 'grid'}>
      <div class="stage-bar">
        {layout.pages > 1 && (
          <div class="stage-pager" role="group" aria-label={t.stagePagesLabel}>
            <button type="button" class="stage-btn" disabled={layout.page === 0} onClick={() => goPage(layout.page - 1)}>
              <span aria-hidden="true">{'\u2039'}</span>
              <span class="stage-btn-text">{t.stagePrevPage}</span>
            </button>
            <span class="stage-page">{t.stagePageOf(layout.page + 1, layout.pages)}</span>
            <button
              type="button"
              class="stage-btn"
              disabled={layout.page >= layout.pages - 1}
              onClick={() => goPage(layout.page + 1)}
            >
              <span class="stage-btn-text">{t.stageNextPage}</span>
              <span aria-hidden="true">{'\u203a'}</span>
            </button>
          </div>
        )}
        <div class="stage-views" role="group" aria-label={t.stageLayoutLabel}>
          <button type="button" class="stage-btn" aria-pressed={mode === 'grid'} onClick={() => choose('grid')}>
            <GridIcon />
            <span class="stage-btn-text">{t.stageGridView}</span>
          </button>
          <button
            type="button"
            class="stage-btn"
            aria-pressed={mode === 'speaker'}
            onClick={() => choose('speaker')}
          >
            <SpeakerViewIcon />
            <span class="stage-btn-text">{t.stageSpeakerView}</span>
          </button>
        </div>
      </div>
      <div
        ref={area}
        class={hasMain ? `stage-area has-main strip-${layout.stripAt}` : 'stage-area is-grid'}
        style={{ '--thumb-w': `${layout.thumb.width}px`, '--thumb-h': `${layout.thumb.height}px` }}
      >
        {hasMain ? (
          <>
            <div class="stage-main">{layout.main.map((x) => tile(x, 'main', mainSize))}</div>
            {layout.strip.length > 0 && <div class="stage-strip">{layout.strip.map((x) => tile(x, 'strip', thumbSize))}</div>}
          </>
        ) : (
          <div
            class="stage-grid"
            style={gridSize ? { width: `${layout.grid.cols * gridSize.width + (layout.grid.cols - 1) * GAP}px` } : undefined}
          >
            {layout.grid.tiles.map((x) => tile(x, 'grid', gridSize))}
          </div>
        )}
        <div class="stage-overlay">{children}</div>
      </div>
      <div class="sr-only" aria-live="polite">
        {announcement}
      </div>
    </div>
  );
}
