// What the video stage shows, derived from the session's state: one tile per person (we
// come first) and one per screen share, and where each goes (layoutStage). Pure, so that
// the layout rules can be tested without a browser; Stage.tsx measures the box and keeps
// the little memory the rules need (who spoke last, which share came last).
import type { MeetingState } from '../session';

export interface TileModel {
  /** Stable key: `<participant>:camera` or `<participant>:screen`. */
  key: string;
  participant: string;
  name: string;
  self: boolean;
  kind: 'camera' | 'screen';
  /** Server track id of the video shown (null: none published yet). */
  trackId: string | null;
  /** The media to show, or null (no camera, camera off, not received yet). */
  media: MediaStreamTrack | null;
  /** The video is switched off by its owner. */
  videoOff: boolean;
  /** The server forwards no layer of it (layer -1): paused for bandwidth, or because we
   *  asked it off while the tile was not shown. */
  paused: boolean;
  /** The person's microphone is muted or missing. */
  micOff: boolean;
  speaking: boolean;
  dominant: boolean;
  /** Host or co-host (shown on the camera tile); absent for participants. */
  role?: 'host' | 'cohost';
}

export function buildTiles(s: MeetingState): TileModel[] {
  const screens: TileModel[] = [];
  const people: TileModel[] = [];
  const self = s.self;
  if (self) {
    const l = s.local;
    const base = {
      participant: self.id,
      name: self.name,
      self: true,
      speaking: s.speaking.has(self.id),
      dominant: s.dominant === self.id,
      micOff: !l.microphone || l.micMuted,
      paused: false,
      ...(s.role !== 'participant' ? { role: s.role } : {}),
    };
    people.push({
      ...base,
      key: `${self.id}:camera`,
      kind: 'camera',
      trackId: l.trackIds.camera ?? null,
      media: l.cameraOff ? null : l.camera,
      videoOff: l.cameraOff || !l.camera,
    });
    if (l.screen) {
      screens.push({
        ...base,
        key: `${self.id}:screen`,
        kind: 'screen',
        trackId: l.trackIds.screen ?? null,
        media: l.screen,
        videoOff: false,
      });
    }
  }
  for (const p of s.participants.values()) {
    const mic = p.tracks.find((t) => t.source === 'microphone' && t.kind === 'audio');
    const cam = p.tracks.find((t) => t.source === 'camera' && t.kind === 'video');
    const screen = p.tracks.find((t) => t.source === 'screen' && t.kind === 'video');
    const base = {
      participant: p.id,
      name: p.name,
      self: false,
      speaking: s.speaking.has(p.id),
      dominant: s.dominant === p.id,
      micOff: !mic || mic.muted,
      ...(p.role === 'host' || p.role === 'cohost' ? { role: p.role } : {}),
    };
    people.push({
      ...base,
      key: `${p.id}:camera`,
      kind: 'camera',
      trackId: cam?.id ?? null,
      media: cam ? (s.remoteTracks.get(cam.id) ?? null) : null,
      videoOff: !cam || cam.muted,
      paused: !!cam && !cam.muted && s.layers.get(cam.id) === -1,
    });
    if (screen) {
      screens.push({
        ...base,
        key: `${p.id}:screen`,
        kind: 'screen',
        trackId: screen.id,
        media: s.remoteTracks.get(screen.id) ?? null,
        videoOff: screen.muted,
        paused: !screen.muted && s.layers.get(screen.id) === -1,
      });
    }
  }
  return [...screens, ...people];
}

/** Remote audio to play: every received audio track, by id. */
export function remoteAudio(s: MeetingState): { trackId: string; media: MediaStreamTrack }[] {
  const out: { trackId: string; media: MediaStreamTrack }[] = [];
  for (const [id, media] of s.remoteTracks) {
    if (s.tracks.get(id)?.kind === 'audio' || (!s.tracks.has(id) && media.kind === 'audio')) {
      out.push({ trackId: id, media });
    }
  }
  return out;
}

// ---------------------------------------------------------------- grid geometry

/** Gap between tiles, px; stage.css uses the same value. */
export const GAP = 8;
/** Smallest grid tile on wide screens (16:9), px: below this faces are unreadable and
 *  the grid paginates instead. */
export const MIN_TILE_WIDTH = 160;
/** Phones: at most two columns, and rows no lower than this (px). */
export const NARROW_COLS = 2;
export const NARROW_MIN_TILE_HEIGHT = 120;
const NARROW_MAX_ROWS = 4;
/** Upper bound of one page: more decoders than this hurt more than they show. */
export const MAX_PER_PAGE = 25;

const WIDE = 16 / 9;

/** Columns for `n` equal tiles in a box of the given aspect (width / height), tiles 16:9:
 *  the count that makes the tiles largest. */
export function gridColumns(n: number, boxAspect: number): number {
  if (n <= 1) return 1;
  let best = 1;
  let bestWidth = 0;
  for (let cols = 1; cols <= n; cols++) {
    const rows = Math.ceil(n / cols);
    // Tile width limited by the box width (1 unit) or by its height (1/boxAspect units).
    const w = Math.min(1 / cols, (1 / boxAspect / rows) * WIDE);
    // On a tie, more columns: side by side fills a wide screen better.
    if (w >= bestWidth - 1e-9) {
      bestWidth = w;
      best = cols;
    }
  }
  return best;
}

/** Columns and tile width (px, 16:9 tiles) that fit `n` tiles into a width × height box
 *  without scrolling; tileWidth 0 when the box is not measured yet. */
export function fitGrid(n: number, width: number, height: number): { cols: number; tileWidth: number } {
  if (width <= 0 || height <= 0) return { cols: Math.min(Math.max(n, 1), 2), tileWidth: 0 };
  const cols = gridColumns(n, width / height);
  const rows = Math.max(1, Math.ceil(n / cols));
  const w = Math.min((width - GAP * (cols - 1)) / cols, ((height - GAP * (rows - 1)) / rows) * WIDE);
  return { cols, tileWidth: Math.max(0, Math.floor(w)) };
}

export interface GridFit {
  cols: number;
  tileWidth: number;
  tileHeight: number;
}

/**
 * The largest equal tiles for `n` in the box, with `minCols`…`maxCols` columns and a tile
 * aspect (w/h) allowed anywhere in [minAspect, maxAspect] (video is cropped to it,
 * object-fit: cover). With both 16/9 this is fitGrid. On a tie, more columns.
 */
export function fitTiles(
  n: number,
  box: Box,
  {
    minCols = 1,
    maxCols = Infinity,
    minAspect = WIDE,
    maxAspect = WIDE,
  }: { minCols?: number; maxCols?: number; minAspect?: number; maxAspect?: number } = {},
): GridFit {
  if (box.width <= 0 || box.height <= 0) return { cols: Math.min(Math.max(n, 1), 2), tileWidth: 0, tileHeight: 0 };
  let best: GridFit & { area: number } = { cols: 1, tileWidth: 0, tileHeight: 0, area: -1 };
  const limit = Math.max(1, Math.min(n, maxCols));
  for (let cols = Math.min(Math.max(1, minCols), limit); cols <= limit; cols++) {
    const rows = Math.max(1, Math.ceil(n / cols));
    const cw = (box.width - GAP * (cols - 1)) / cols;
    const ch = (box.height - GAP * (rows - 1)) / rows;
    if (cw <= 0 || ch <= 0) continue;
    let w = cw;
    let h = ch;
    if (w / h > maxAspect) w = h * maxAspect;
    else if (w / h < minAspect) h = w / minAspect;
    const area = w * h;
    if (area >= best.area * (1 - 1e-9)) best = { cols, tileWidth: Math.floor(w), tileHeight: Math.floor(h), area };
  }
  return { cols: best.cols, tileWidth: Math.max(0, best.tileWidth), tileHeight: Math.max(0, best.tileHeight) };
}

/** How many grid tiles fit in the box at the minimum size (Infinity: not measured yet). */
export function gridCapacity(box: Box, narrow: boolean): number {
  if (box.width <= 0 || box.height <= 0) return Infinity;
  if (narrow) {
    const rows = Math.floor((box.height + GAP) / (NARROW_MIN_TILE_HEIGHT + GAP));
    return NARROW_COLS * Math.max(1, Math.min(NARROW_MAX_ROWS, rows));
  }
  const minH = MIN_TILE_WIDTH / WIDE;
  const cols = Math.max(1, Math.floor((box.width + GAP) / (MIN_TILE_WIDTH + GAP)));
  const rows = Math.max(1, Math.floor((box.height + GAP) / (minH + GAP)));
  return Math.min(MAX_PER_PAGE, cols * rows);
}

// ---------------------------------------------------------------- stage layout

export interface Box {
  width: number;
  height: number;
}

export type LayoutMode = 'grid' | 'speaker';
export type LayoutRole = 'main' | 'grid' | 'strip';
/** Why the main tile is large. */
export type MainReason = 'spotlight' | 'pinned' | 'screen' | 'speaker';

export interface StageInput {
  tiles: readonly TileModel[];
  mode: LayoutMode;
  /** Tile key the person pinned (a local choice), or null. */
  pinned: string | null;
  /** Participant the host put in the spotlight for everyone; wins over pin and speaker. */
  spotlight: string | null;
  /** The stage's free area in CSS px (0×0: not measured yet). */
  box: Box;
  /** Grid page asked for (clamped to what exists). */
  page: number;
  /** Phone width: at most two columns, strip below the main tile. */
  narrow: boolean;
  /** Keys of screen tiles, oldest share first (see screenOrder); default: tile order. */
  screenOrder?: readonly string[];
  /** The remote participant speaker view shows (see followSpeaker); default: the
   *  dominant speaker when that is not us. */
  speaker?: string | null;
}

export interface StageLayout {
  /** Zero or one tile shown large. */
  main: TileModel[];
  mainReason: MainReason | null;
  /** Size of the main tile, px (0×0 when not measured). */
  mainSize: Box;
  /** The grid page, when there is no main tile. */
  grid: { tiles: TileModel[] } & GridFit;
  /** Thumbnails beside (side) or below the main tile, in order; scrolls beyond the box. */
  strip: TileModel[];
  stripAt: 'side' | 'below';
  /** Size of each thumbnail, px. */
  thumb: Box;
  pages: number;
  page: number;
}

/** The screen tiles' keys in the order they appeared: known ones keep their place, new
 *  ones go last. Returns `prev` itself when nothing changed. */
export function screenOrder(prev: readonly string[], tiles: readonly TileModel[]): readonly string[] {
  const now = tiles.filter((t) => t.kind === 'screen').map((t) => t.key);
  const present = new Set(now);
  const next = prev.filter((k) => present.has(k));
  for (const k of now) if (!next.includes(k)) next.push(k);
  return next.length === prev.length && next.every((k, i) => k === prev[i]) ? prev : next;
}

/** Who speaker view shows: the dominant speaker, except that while we are dominant the
 *  previous remote speaker stays (nobody wants to watch themselves talk). */
export function followSpeaker(prev: string | null, dominant: string | null, selfId: string | null): string | null {
  return dominant !== null && dominant !== selfId ? dominant : prev;
}

// Thumbnails stay at or below 240 px wide so that at 1× they ask for the lowest camera
// layer (320×180), and main tiles ask for the top one.
const THUMB_MAX_W = 240;
const THUMB_MIN_W = 128;
const THUMB_MAX_H = 110;
const THUMB_MIN_H = 72;

const clamp = (x: number, lo: number, hi: number) => Math.min(hi, Math.max(lo, x));

export function layoutStage(input: StageInput): StageLayout {
  const { tiles, box, narrow } = input;
  const cameras = tiles.filter((t) => t.kind === 'camera');
  const screens = orderedScreens(tiles, input.screenOrder);

  // Precedence: the host's spotlight, then our own pin, then the newest share, then (in
  // speaker view) the speaker. Without any of these it is the grid.
  const candidates: [TileModel | null | undefined, MainReason][] = [
    [input.spotlight ? cameras.find((t) => t.participant === input.spotlight) : null, 'spotlight'],
    [input.pinned ? tiles.find((t) => t.key === input.pinned) : null, 'pinned'],
    [screens[screens.length - 1], 'screen'],
    [input.mode === 'speaker' ? speakerTile(cameras, input.speaker) : null, 'speaker'],
  ];
  const chosen = candidates.find(([t]) => t);
  if (!chosen) return gridLayout(tiles, box, narrow, input.page);
  const m = chosen[0]!;
  const mainReason = chosen[1];

  // The strip: a share's presenter first (their face beside their slides), then the other
  // shares newest first, then everyone else in the usual order (us first).
  const strip: TileModel[] = [];
  if (m.kind === 'screen') {
    const presenter = cameras.find((t) => t.participant === m.participant);
    if (presenter) strip.push(presenter);
  }
  for (let i = screens.length - 1; i >= 0; i--) if (screens[i] !== m) strip.push(screens[i]);
  for (const t of cameras) if (t !== m && !strip.includes(t)) strip.push(t);

  const stripAt: 'side' | 'below' = !narrow && box.width >= box.height * 1.25 ? 'side' : 'below';
  let thumb: Box = { width: 0, height: 0 };
  let area: Box = box;
  if (box.width > 0 && box.height > 0 && strip.length > 0) {
    if (stripAt === 'side') {
      const w = Math.round(clamp(box.width * 0.18, THUMB_MIN_W, THUMB_MAX_W));
      thumb = { width: w, height: Math.round(w / WIDE) };
      area = { width: box.width - w - GAP, height: box.height };
    } else {
      const h = Math.round(clamp(box.height * 0.18, THUMB_MIN_H, THUMB_MAX_H));
      thumb = { width: Math.round(h * WIDE), height: h };
      area = { width: box.width, height: box.height - h - GAP };
    }
  }
  let mainSize: Box = { width: 0, height: 0 };
  if (area.width > 0 && area.height > 0) {
    // A share is letterboxed inside the whole area; a face may be cropped a little to
    // fill more of it (squarer on phones, where the area is portrait).
    mainSize =
      m.kind === 'screen'
        ? { width: Math.floor(area.width), height: Math.floor(area.height) }
        : fitAspect(area, narrow ? 1 : 4 / 3, WIDE);
  }
  return {
    main: [m],
    mainReason,
    mainSize,
    grid: { tiles: [], cols: 1, tileWidth: 0, tileHeight: 0 },
    strip,
    stripAt,
    thumb,
    pages: 1,
    page: 0,
  };
}

function orderedScreens(tiles: readonly TileModel[], order: readonly string[] | undefined): TileModel[] {
  const screens = tiles.filter((t) => t.kind === 'screen');
  if (!order) return screens;
  const rank = (t: TileModel) => {
    const i = order.indexOf(t.key);
    return i < 0 ? order.length : i;
  };
  return screens.map((t, i) => ({ t, i })).sort((a, b) => rank(a.t) - rank(b.t) || a.i - b.i).map((x) => x.t);
}

function speakerTile(cameras: TileModel[], speaker: string | null | undefined): TileModel | null {
  const remote = cameras.filter((t) => !t.self);
  if (remote.length === 0) return cameras[0] ?? null; // alone: ourselves
  return (
    (speaker ? remote.find((t) => t.participant === speaker) : undefined) ??
    remote.find((t) => t.dominant) ??
    remote[0]
  );
}

function fitAspect(area: Box, minAspect: number, maxAspect: number): Box {
  let w = area.width;
  let h = area.height;
  if (w / h > maxAspect) w = h * maxAspect;
  else if (w / h < minAspect) h = w / minAspect;
  return { width: Math.floor(w), height: Math.floor(h) };
}

function gridLayout(tiles: readonly TileModel[], box: Box, narrow: boolean, page: number): StageLayout {
  const cap = gridCapacity(box, narrow);
  const self = tiles.find((t) => t.self && t.kind === 'camera') ?? null;
  let shown: TileModel[];
  let pages = 1;
  let at = 0;
  if (tiles.length <= cap) {
    shown = [...tiles];
  } else if (self) {
    // Our own tile opens every page, as in a gallery: we always see how we come across.
    const others = tiles.filter((t) => t !== self);
    const per = Math.max(1, cap - 1);
    pages = Math.ceil(others.length / per);
    at = clamp(Math.floor(page), 0, pages - 1);
    shown = [self, ...others.slice(at * per, (at + 1) * per)];
  } else {
    pages = Math.ceil(tiles.length / cap);
    at = clamp(Math.floor(page), 0, pages - 1);
    shown = tiles.slice(at * cap, (at + 1) * cap);
  }
  // Phones: two people stacked full width; from three on, two columns (one column of
  // three or more would be a thin stack of letterboxes).
  const fit = narrow
    ? fitTiles(shown.length, box, { minCols: shown.length >= 3 ? 2 : 1, maxCols: NARROW_COLS, minAspect: 3 / 4, maxAspect: WIDE })
    : fitTiles(shown.length, box);
  return {
    main: [],
    mainReason: null,
    mainSize: { width: 0, height: 0 },
    grid: { tiles: shown, ...fit },
    strip: [],
    stripAt: 'below',
    thumb: { width: 0, height: 0 },
    pages,
    page: at,
  };
}
