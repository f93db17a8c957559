import { describe, expect, test } from 'vitest';
import type { MeetingState } from '../session';
import type { Participant, Track } from '../protocol';
import {
  MIN_TILE_WIDTH,
  buildTiles,
  fitGrid,
  fitTiles,
  followSpeaker,
  gridCapacity,
  gridColumns,
  layoutStage,
  screenOrder,
  type StageInput,
  type TileModel,
} from './tiles';

// ---------------------------------------------------------------- helpers

function tile(participant: string, kind: 'camera' | 'screen' = 'camera', extra: Partial<TileModel> = {}): TileModel {
  return {
    key: `${participant}:${kind}`,
    participant,
    name: participant.toUpperCase(),
    self: false,
    kind,
    trackId: `t-${participant}-${kind}`,
    media: null,
    videoOff: false,
    paused: false,
    micOff: false,
    speaking: false,
    dominant: false,
    ...extra,
  };
}
const me = (extra: Partial<TileModel> = {}) => tile('me', 'camera', { self: true, ...extra });
/** Us and `n` others, in buildTiles order (us first). */
const people = (n: number) => [me(), ...Array.from({ length: n }, (_, i) => tile(`p${i + 1}`))];

const DESKTOP = { width: 1200, height: 640 };
const PHONE = { width: 374, height: 560 };

function layout(over: Partial<StageInput>) {
  return layoutStage({ tiles: [], mode: 'grid', pinned: null, spotlight: null, box: DESKTOP, page: 0, narrow: false, ...over });
}
const keys = (ts: TileModel[]) => ts.map((t) => t.key);

// ---------------------------------------------------------------- buildTiles

function fakeTrack(kind: string): MediaStreamTrack {
  return { kind, id: `m-${Math.random()}` } as unknown as MediaStreamTrack;
}

// Cast: the state grows fields other issues need; these tests set the ones tiles read.
function stateWith(partial: Partial<MeetingState>): MeetingState {
  return {
    phase: 'joined',
    meetingId: 'm',
    self: { id: 'me', name: 'Ada', tracks: [], speaking: false },
    participants: new Map(),
    tracks: new Map(),
    speaking: new Set(),
    dominant: null,
    remoteTracks: new Map(),
    layers: new Map(),
    local: {
      microphone: fakeTrack('audio'),
      camera: fakeTrack('video'),
      screen: null,
      micMuted: true,
      cameraOff: false,
      trackIds: { camera: 't-me-cam' },
      audioProblem: null,
      videoProblem: null,
      screenProblem: null,
      devices: { microphone: null, camera: null, speaker: null },
    },
    reconnect: null,
    ended: null,
    error: null,
    ...partial,
  } as MeetingState;
}

describe('buildTiles', () => {
  const track = (id: string, participant: string, source: Track['source'], muted = false): Track => ({
    id,
    participant,
    kind: source === 'microphone' ? 'audio' : 'video',
    source,
    muted,
    layers: source === 'camera' ? 3 : 1,
  });
  const grace: Participant = {
    id: 'g',
    name: 'Grace',
    speaking: true,
    tracks: [track('t-g-mic', 'g', 'microphone', true), track('t-g-cam', 'g', 'camera'), track('t-g-scr', 'g', 'screen')],
  };
  const hedy: Participant = { id: 'h', name: 'Hedy', speaking: false, tracks: [track('t-h-cam', 'h', 'camera', true)] };
  const gCam = fakeTrack('video');
  const s = stateWith({
    participants: new Map([
      ['g', grace],
      ['h', hedy],
    ]),
    remoteTracks: new Map([['t-g-cam', gCam]]),
    layers: new Map([['t-g-scr', -1], ['t-g-cam', 0]]),
    speaking: new Set(['g']),
    dominant: 'g',
  });
  const tiles = buildTiles(s);

  test('screens first, then us, then the others in joining order', () => {
    expect(keys(tiles)).toEqual(['g:screen', 'me:camera', 'g:camera', 'h:camera']);
  });
  test('our tile: self, our camera, our muted microphone', () => {
    const t = tiles.find((x) => x.key === 'me:camera')!;
    expect(t).toMatchObject({ self: true, name: 'Ada', trackId: 't-me-cam', micOff: true, videoOff: false, paused: false });
    expect(t.media).toBe(s.local.camera);
  });
  test('remote tiles take media, mute, speaking and pause state from the session', () => {
    const g = tiles.find((x) => x.key === 'g:camera')!;
    expect(g).toMatchObject({ trackId: 't-g-cam', micOff: true, speaking: true, dominant: true, videoOff: false, paused: false });
    expect(g.media).toBe(gCam);
    const screen = tiles.find((x) => x.key === 'g:screen')!;
    expect(screen).toMatchObject({ paused: true, media: null });
    const h = tiles.find((x) => x.key === 'h:camera')!;
    expect(h).toMatchObject({ videoOff: true, micOff: true, paused: false, speaking: false });
  });
  test('a camera turned off is never shown as paused', () => {
    const off = buildTiles(
      stateWith({ participants: new Map([['h', hedy]]), layers: new Map([['t-h-cam', -1]]) }),
    ).find((x) => x.key === 'h:camera')!;
    expect(off.paused).toBe(false);
  });
});

// ---------------------------------------------------------------- grid geometry

describe('grid geometry', () => {
  test('one tile fills the box', () => {
    expect(gridColumns(1, 16 / 9)).toBe(1);
  });
  test('four tiles in a 16:9 box make a 2×2 grid', () => {
    // Limited by the height: two rows of (900 − 8) / 2 px at 16:9.
    expect(fitGrid(4, 1600, 900)).toEqual({ cols: 2, tileWidth: 792 });
  });
  test('an unmeasured box still gives a sane column count', () => {
    expect(fitGrid(5, 0, 0)).toEqual({ cols: 2, tileWidth: 0 });
  });
  test('fitTiles with 16:9 tiles agrees with fitGrid', () => {
    for (const n of [1, 2, 3, 5, 7, 12, 16]) {
      const a = fitTiles(n, { width: 1100, height: 600 });
      const b = fitGrid(n, 1100, 600);
      expect([n, a.cols, a.tileWidth]).toEqual([n, b.cols, b.tileWidth]);
      expect(Math.abs(a.tileHeight - (a.tileWidth * 9) / 16)).toBeLessThanOrEqual(1);
    }
  });
  test('capacity: how many 160 px tiles fit, capped at 25', () => {
    // 500×300: 3 columns of 160 (+8 gaps), 3 rows of 90.
    expect(gridCapacity({ width: 500, height: 300 }, false)).toBe(9);
    expect(gridCapacity({ width: 3000, height: 2000 }, false)).toBe(25);
    expect(gridCapacity({ width: 0, height: 0 }, false)).toBe(Infinity);
    // A phone: two columns, rows of at least 120 px, at most four.
    expect(gridCapacity(PHONE, true)).toBe(8);
    expect(gridCapacity({ width: 374, height: 300 }, true)).toBe(4);
  });
});

// ---------------------------------------------------------------- layout rules

describe('layoutStage: screen shares', () => {
  test('a share is main and its presenter is the first thumbnail', () => {
    const tiles = [tile('p2', 'screen'), ...people(3)];
    const l = layout({ tiles });
    expect(keys(l.main)).toEqual(['p2:screen']);
    expect(l.mainReason).toBe('screen');
    expect(keys(l.strip)).toEqual(['p2:camera', 'me:camera', 'p1:camera', 'p3:camera']);
    expect(l.grid.tiles).toEqual([]);
  });
  test('in speaker view too', () => {
    const l = layout({ tiles: [tile('p1', 'screen'), ...people(2)], mode: 'speaker', speaker: 'p2' });
    expect(keys(l.main)).toEqual(['p1:screen']);
    expect(keys(l.strip)[0]).toBe('p1:camera');
  });
  test('several shares: the newest is main, the others lead the strip, newest first', () => {
    const tiles = [tile('p1', 'screen'), tile('p2', 'screen'), tile('p3', 'screen'), ...people(3)];
    const order = ['p2:screen', 'p3:screen', 'p1:screen']; // p1 shared last
    const l = layout({ tiles, screenOrder: order });
    expect(keys(l.main)).toEqual(['p1:screen']);
    expect(keys(l.strip)).toEqual(['p1:camera', 'p3:screen', 'p2:screen', 'me:camera', 'p2:camera', 'p3:camera']);
  });
  test('our own share is main when it is the newest, our camera beside it', () => {
    const tiles = [tile('me', 'screen', { self: true }), ...people(2)];
    const l = layout({ tiles });
    expect(keys(l.main)).toEqual(['me:screen']);
    expect(keys(l.strip)).toEqual(['me:camera', 'p1:camera', 'p2:camera']);
  });
  test('screenOrder keeps the order of appearance and appends new shares', () => {
    const a = [tile('p1', 'screen'), tile('p2', 'screen')];
    const first = screenOrder([], a);
    expect(first).toEqual(['p1:screen', 'p2:screen']);
    expect(screenOrder(first, a)).toBe(first); // unchanged: same array
    // p1 stops; p0 (listed first by buildTiles) starts later and is the newest.
    expect(screenOrder(first, [tile('p0', 'screen'), tile('p2', 'screen')])).toEqual(['p2:screen', 'p0:screen']);
  });
});

describe('layoutStage: pin and spotlight', () => {
  test('a pinned tile is main and all others are thumbnails', () => {
    const l = layout({ tiles: people(3), pinned: 'p2:camera' });
    expect(keys(l.main)).toEqual(['p2:camera']);
    expect(l.mainReason).toBe('pinned');
    expect(keys(l.strip)).toEqual(['me:camera', 'p1:camera', 'p3:camera']);
  });
  test('a pin wins over a screen share, which then leads the strip', () => {
    const l = layout({ tiles: [tile('p1', 'screen'), ...people(2)], pinned: 'p2:camera' });
    expect(keys(l.main)).toEqual(['p2:camera']);
    expect(keys(l.strip)).toEqual(['p1:screen', 'me:camera', 'p1:camera']);
  });
  test('a pin of a tile that is gone is ignored', () => {
    const l = layout({ tiles: people(2), pinned: 'gone:camera' });
    expect(l.main).toEqual([]);
    expect(l.grid.tiles.length).toBe(3);
  });
  test('the spotlight wins over a pin, a share and the speaker', () => {
    const tiles = [tile('p1', 'screen'), ...people(3)];
    const l = layout({ tiles, pinned: 'p2:camera', spotlight: 'p3', mode: 'speaker', speaker: 'p1' });
    expect(keys(l.main)).toEqual(['p3:camera']);
    expect(l.mainReason).toBe('spotlight');
    expect(keys(l.strip)).toEqual(['p1:screen', 'me:camera', 'p1:camera', 'p2:camera']);
  });
  test('a spotlight on someone not here changes nothing', () => {
    const l = layout({ tiles: people(2), pinned: 'p1:camera', spotlight: 'nobody' });
    expect(keys(l.main)).toEqual(['p1:camera']);
  });
});

describe('layoutStage: speaker view', () => {
  test('the dominant remote speaker is main', () => {
    const tiles = [me(), tile('p1'), tile('p2', 'camera', { dominant: true }), tile('p3')];
    const l = layout({ tiles, mode: 'speaker' });
    expect(keys(l.main)).toEqual(['p2:camera']);
    expect(keys(l.strip)).toEqual(['me:camera', 'p1:camera', 'p3:camera']);
  });
  test('while we are dominant, the previous remote speaker stays', () => {
    let speaker = followSpeaker(null, 'p2', 'me');
    expect(speaker).toBe('p2');
    speaker = followSpeaker(speaker, 'me', 'me');
    expect(speaker).toBe('p2');
    speaker = followSpeaker(speaker, null, 'me');
    expect(speaker).toBe('p2');
    const tiles = [me({ dominant: true }), tile('p1'), tile('p2'), tile('p3')];
    expect(keys(layout({ tiles, mode: 'speaker', speaker }).main)).toEqual(['p2:camera']);
    expect(followSpeaker(speaker, 'p3', 'me')).toBe('p3');
  });
  test('never ourselves large when anyone else is here, even before anyone spoke', () => {
    const tiles = [me({ dominant: true }), tile('p1'), tile('p2')];
    const l = layout({ tiles, mode: 'speaker', speaker: null });
    expect(keys(l.main)).toEqual(['p1:camera']);
    // The remembered speaker left: the first remote person instead.
    expect(keys(layout({ tiles, mode: 'speaker', speaker: 'left-already' }).main)).toEqual(['p1:camera']);
  });
  test('alone, we are main with an empty strip', () => {
    const l = layout({ tiles: [me()], mode: 'speaker' });
    expect(keys(l.main)).toEqual(['me:camera']);
    expect(l.strip).toEqual([]);
    expect(l.mainSize.width).toBeGreaterThan(1000);
  });
});

describe('layoutStage: grid and pages', () => {
  test('everyone fits: one page, largest tiles, at least 160 px wide', () => {
    const l = layout({ tiles: people(8) });
    expect(l.pages).toBe(1);
    expect(l.grid.tiles.length).toBe(9);
    expect(l.grid.cols).toBe(3);
    expect(l.grid.tileWidth).toBe(Math.floor((640 - 16) / 3 * (16 / 9)));
    expect(Math.abs(l.grid.tileHeight - (l.grid.tileWidth * 9) / 16)).toBeLessThanOrEqual(1);
  });
  test('no grid tile is ever narrower than the minimum, whatever the count and box', () => {
    for (const box of [DESKTOP, { width: 700, height: 400 }, { width: 1900, height: 950 }, { width: 330, height: 700 }]) {
      const cap = gridCapacity(box, false);
      for (let n = 1; n <= 40; n++) {
        const l = layout({ tiles: people(n - 1), box });
        expect(l.grid.tiles.length).toBeLessThanOrEqual(cap);
        expect([box.width, n, l.grid.tileWidth >= MIN_TILE_WIDTH]).toEqual([box.width, n, true]);
        const rows = Math.ceil(l.grid.tiles.length / l.grid.cols);
        expect(rows * l.grid.tileHeight + (rows - 1) * 8).toBeLessThanOrEqual(box.height);
        expect(l.grid.cols * l.grid.tileWidth + (l.grid.cols - 1) * 8).toBeLessThanOrEqual(box.width);
      }
    }
  });
  test('more than fit: pages of what fits, our own tile first on every page', () => {
    const box = { width: 500, height: 300 }; // 9 per page
    const tiles = people(19);
    const seen: string[] = [];
    for (let page = 0; page < 3; page++) {
      const l = layout({ tiles, box, page });
      expect(l.pages).toBe(3); // 19 others, 8 per page beside us
      expect(l.page).toBe(page);
      expect(l.grid.tiles[0].key).toBe('me:camera');
      expect(l.grid.tiles.length).toBe(page < 2 ? 9 : 4);
      seen.push(...keys(l.grid.tiles.slice(1)));
    }
    expect(seen).toEqual(keys(tiles.slice(1))); // each other person on exactly one page, in order
  });
  test('a page past the end is the last page', () => {
    const l = layout({ tiles: people(19), box: { width: 500, height: 300 }, page: 7 });
    expect(l.page).toBe(2);
    expect(keys(l.grid.tiles)).toEqual(['me:camera', 'p17:camera', 'p18:camera', 'p19:camera']);
  });
  test('not measured yet: everything on one page', () => {
    const l = layout({ tiles: people(30), box: { width: 0, height: 0 } });
    expect(l.pages).toBe(1);
    expect(l.grid.tiles.length).toBe(31);
    expect(l.grid.tileWidth).toBe(0);
  });
  test('phones: two columns, taller tiles, eight per page', () => {
    const l = layout({ tiles: people(4), box: PHONE, narrow: true });
    expect(l.grid.cols).toBe(2);
    expect(l.grid.tileWidth).toBe(Math.floor((374 - 8) / 2));
    expect(l.grid.tileHeight).toBeGreaterThan(l.grid.tileWidth * 9 / 16);
    for (let n = 3; n <= 30; n++) {
      // (Three would be larger stacked, as 16:9 rows, but a phone grid is two columns.)
      const p = layout({ tiles: people(n - 1), box: PHONE, narrow: true });
      expect([n, p.grid.cols]).toEqual([n, 2]);
      expect(p.grid.tiles.length).toBeLessThanOrEqual(8);
    }
    const many = layout({ tiles: people(14), box: PHONE, narrow: true, page: 1 });
    expect(many.pages).toBe(2);
    expect(keys(many.grid.tiles)).toEqual(['me:camera', ...keys(people(14).slice(8, 15))]);
  });
  test('two people on a portrait phone are stacked, full width', () => {
    const l = layout({ tiles: people(1), box: PHONE, narrow: true });
    expect(l.grid.cols).toBe(1);
    expect(l.grid.tileWidth).toBe(374);
  });
});

describe('layoutStage: main and strip sizes', () => {
  test('wide box: strip beside the main tile, thumbnails small enough for the low layer', () => {
    const l = layout({ tiles: people(5), pinned: 'p1:camera' });
    expect(l.stripAt).toBe('side');
    expect(l.thumb.width).toBeLessThanOrEqual(240);
    expect(l.thumb.width).toBeGreaterThanOrEqual(128);
    expect(l.thumb.height).toBe(Math.round(l.thumb.width * 9 / 16));
    expect(l.mainSize.width + l.thumb.width + 8).toBeLessThanOrEqual(DESKTOP.width);
    expect(l.mainSize.height).toBeLessThanOrEqual(DESKTOP.height);
    expect(l.mainSize.width).toBeGreaterThan(3 * l.thumb.width);
  });
  test('phone: main on top, strip below it', () => {
    const l = layout({ tiles: [tile('p1', 'screen'), ...people(3)], box: PHONE, narrow: true });
    expect(l.stripAt).toBe('below');
    expect(l.thumb.height).toBeLessThanOrEqual(110);
    // The share gets the whole width and what the strip leaves of the height.
    expect(l.mainSize).toEqual({ width: 374, height: 560 - l.thumb.height - 8 });
  });
  test('a camera as main keeps a face-friendly shape', () => {
    const l = layout({ tiles: people(3), box: PHONE, narrow: true, pinned: 'p1:camera' });
    expect(l.mainSize.width).toBe(374);
    expect(l.mainSize.height).toBe(374); // square at most on a portrait phone
  });
});
