// What the video grid shows, derived from the session's state: one tile per person (we
// come first), and a screen share before everything else, shown large. Pure, so that the
// layout rules can be tested without a browser.
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
  /** The person's microphone is muted or missing. */
  micOff: boolean;
  speaking: boolean;
  dominant: boolean;
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
    };
    people.push({
      ...base,
      key: `${p.id}:camera`,
      kind: 'camera',
      trackId: cam?.id ?? null,
      media: cam ? (s.remoteTracks.get(cam.id) ?? null) : null,
      videoOff: !cam || cam.muted,
    });
    if (screen) {
      screens.push({
        ...base,
        key: `${p.id}:screen`,
        kind: 'screen',
        trackId: screen.id,
        media: s.remoteTracks.get(screen.id) ?? null,
        videoOff: screen.muted,
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

/** Columns for `n` equal tiles in a box of the given aspect (width / height), tiles 16:9:
 *  the count that makes the tiles largest. */
export function gridColumns(n: number, boxAspect: number): number {
  if (n <= 1) return 1;
  let best = 1;
  let bestWidth = 0;
  for (let cols = 1; cols <= n; cols++) {
    const rows = Math.ceil(n / cols);
    // Tile width limited by the box width (1 unit) or by its height (1/boxAspect units).
    const w = Math.min(1 / cols, (1 / boxAspect / rows) * (16 / 9));
    // On a tie, more columns: side by side fills a wide screen better.
    if (w >= bestWidth - 1e-9) {
      bestWidth = w;
      best = cols;
    }
  }
  return best;
}

const GAP = 8; // px, as .grid's gap in meeting.css

/** Columns and tile width (px, 16:9 tiles) that fit `n` tiles into a width × height box
 *  without scrolling; tileWidth 0 when the box is not measured yet. */
export function fitGrid(n: number, width: number, height: number): { cols: number; tileWidth: number } {
  if (width <= 0 || height <= 0) return { cols: Math.min(Math.max(n, 1), 2), tileWidth: 0 };
  const cols = gridColumns(n, width / height);
  const rows = Math.max(1, Math.ceil(n / cols));
  const w = Math.min((width - GAP * (cols - 1)) / cols, ((height - GAP * (rows - 1)) / rows) * (16 / 9));
  return { cols, tileWidth: Math.max(0, Math.floor(w)) };
}
