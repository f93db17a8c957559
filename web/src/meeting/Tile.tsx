// One tile: a person's camera (or screen), their name, whether their microphone is off,
// a raised hand, their connection, a pin button, and an outline while they speak. A
// remote tile tells the session how large it is shown, in device pixels, so that the
// server forwards the fitting simulcast layer (thumbnails the low one, the main tile the
// high one), and that it is not shown at all when it is scrolled away, hidden or
// unmounted (the server then pauses it).
//
// Memoized on the model fields it shows (not `dominant`): a speaking event re-renders the
// tiles whose outline changes, not all of them.
import { memo } from 'preact/compat';
import { useEffect, useRef, useState } from 'preact/hooks';
import { t } from '../strings';
import type { MeetingSession } from '../session';
import type { Box, LayoutRole, TileModel } from './tiles';
import { noteVideoShown, shownLongEnough, type NetworkQuality } from './quality';
import { HandIcon, MicOffIcon, PinIcon } from './icons';

export interface TileProps {
  tile: TileModel;
  session: MeetingSession;
  role: LayoutRole;
  /** Size in CSS px from the layout; null leaves it to the style sheet. */
  size: Box | null;
  hand: boolean;
  quality: NetworkQuality;
  pinned: boolean;
  /** This tile is large because the host spotlighted the person. */
  spotlight: boolean;
  /** Pins the tile, or unpins it when pinned. */
  onPin: (key: string, label: string) => void;
  /** Its frames do not decrypt: waiting for the sender's key, or failing. */
  decrypt?: 'no_key' | 'authentication';
}

export function tileLabel(tile: TileModel): string {
  if (tile.kind === 'screen') return tile.self ? t.yourScreen : t.screenOf(tile.name);
  return tile.self ? t.you(tile.name) : tile.name;
}

function TileView({ tile, session, role, size, hand, quality, pinned, spotlight, onPin, decrypt }: TileProps) {
  const video = useRef<HTMLVideoElement>(null);
  const remoteId = tile.self ? null : tile.trackId;
  const pausedNote = usePausedNote(session, remoteId, tile.paused);
  // Frames that cannot be decrypted are said in words, never left as a black picture.
  const keyNote = !tile.videoOff && !pausedNote && decrypt ? (decrypt === 'no_key' ? t.waitingForKey : t.cannotDecrypt) : null;
  const showVideo = tile.media !== null && !tile.videoOff && !pausedNote && !keyNote;

  useEffect(() => {
    const el = video.current;
    if (!el) return;
    el.srcObject = tile.media ? new MediaStream([tile.media]) : null;
    if (tile.media) el.play().catch(() => {});
  }, [tile.media]);

  useEffect(() => {
    const el = video.current;
    if (!remoteId || !el) return;
    // Nothing is said until both observers have spoken: an early "visible, size unknown"
    // would be an "off" for a tile that is about to be shown.
    let size: { width: number; height: number } | null = null;
    let visible: boolean | null = null;
    const report = () => {
      if (size === null || visible === null) return;
      const shown = visible && size.width >= 1 && size.height >= 1;
      reportView(session, remoteId, shown ? size : null);
    };
    const ro = new ResizeObserver((entries) => {
      const r = entries[entries.length - 1].contentRect;
      const dpr = globalThis.devicePixelRatio || 1;
      size = { width: r.width * dpr, height: r.height * dpr };
      report();
    });
    const io = new IntersectionObserver((entries) => {
      visible = entries[entries.length - 1].isIntersecting;
      report();
    });
    ro.observe(el);
    io.observe(el);
    return () => {
      ro.disconnect();
      io.disconnect();
      releaseView(session, remoteId);
    };
  }, [remoteId, session]);

  const label = tileLabel(tile);
  const classes = ['tile', `tile-${tile.kind}`, `tile-${role}`];
  const speaking = tile.speaking && tile.kind === 'camera';
  if (speaking) classes.push('speaking');
  if (!showVideo) classes.push('no-video');
  if (pinned) classes.push('pinned');
  const raised = hand && tile.kind === 'camera';
  const roleText = tile.kind === 'camera' ? (tile.role === 'host' ? t.roleHost : tile.role === 'cohost' ? t.roleCohost : null) : null;

  return (
    <div
      class={classes.join(' ')}
      role="group"
      aria-label={label}
      data-participant={tile.participant}
      data-source={tile.kind}
      data-layout-role={role}
      data-hand={raised ? 'raised' : undefined}
      data-speaking={speaking ? 'true' : undefined}
      data-paused={pausedNote ? 'true' : undefined}
      data-e2ee={decrypt}
      style={size && size.width > 0 ? { width: `${size.width}px`, height: `${size.height}px` } : undefined}
    >
      {/* A remote video stays laid out while it waits for its first frames (or is paused),
          so that its size is known; it is hidden (0×0: paused at the server) while its
          owner has it switched off. */}
      {(tile.media || remoteId) && (
        <video
          ref={video}
          class={tile.self && tile.kind === 'camera' ? 'mirror' : undefined}
          data-track={tile.trackId ?? undefined}
          hidden={tile.videoOff}
          autoplay
          playsInline
          muted
        />
      )}
      {!showVideo && (
        <div class="tile-empty">
          <div class="avatar" aria-hidden="true">
            {initial(tile.name)}
          </div>
          {pausedNote && <p class="tile-note">{t.stageVideoPaused}</p>}
          {keyNote && (
            <p class="tile-note" role="status">
              {keyNote}
            </p>
          )}
        </div>
      )}
      {(raised || spotlight || roleText) && (
        <div class="tile-badges">
          {raised && (
            <span class="tile-hand" role="img" aria-label={t.stageHandRaised} title={t.stageHandRaised}>
              <HandIcon />
            </span>
          )}
          {spotlight && <span class="tile-spotlight">{t.stageSpotlight}</span>}
          {roleText && <span class="tile-role">{roleText}</span>}
        </div>
      )}
      <button
        type="button"
        class="tile-pin"
        aria-label={pinned ? t.unpinTile(label) : t.pinTile(label)}
        title={pinned ? t.unpinTile(label) : t.pinTile(label)}
        onClick={() => onPin(tile.key, label)}
      >
        <PinIcon />
      </button>
      <div class="tile-name">
        {tile.kind === 'camera' && <QualityBars quality={quality} />}
        <span class="tile-label">{label}</span>
        {tile.kind === 'camera' && tile.micOff && (
          <span class="tile-state" role="img" aria-label={t.micOff} title={t.micOff}>
            <MicOffIcon />
          </span>
        )}
      </div>
    </div>
  );
}

/** Three bars, lit by level; nothing when there is no data yet. */
function QualityBars({ quality }: { quality: NetworkQuality }) {
  if (quality === 'unknown') return null;
  const lit = quality === 'good' ? 3 : quality === 'fair' ? 2 : 1;
  const label = t.qualityLabel[quality];
  return (
    <span class={`tile-quality q-${quality}`} role="img" aria-label={label} title={label}>
      <svg viewBox="0 0 12 12" width="12" height="12" aria-hidden="true" focusable="false">
        {[0, 1, 2].map((i) => (
          <rect key={i} x={1 + i * 3.75} y={8 - i * 3} width="2.5" height={3 + i * 3} rx=".5" class={i < lit ? 'on' : 'off'} />
        ))}
      </svg>
    </span>
  );
}

// A tile that moves between the grid, the main area and the strip is a new component
// (another parent), so its video would be turned off and on again, costing a key frame
// and a layer ramp. Its "off" therefore waits a moment for a successor for the same
// track; a tile that is really gone (another page, person left) is off shortly after.
const RELEASE_DELAY_MS = 800;
const pendingOff = new Map<string, { session: MeetingSession; timer: ReturnType<typeof setTimeout> }>();

function reportView(session: MeetingSession, trackId: string, size: Box | null): void {
  const pending = pendingOff.get(trackId);
  if (pending?.session === session) {
    clearTimeout(pending.timer);
    pendingOff.delete(trackId);
  }
  noteVideoShown(session, trackId, size !== null);
  session.setVideoView(trackId, size);
}

function releaseView(session: MeetingSession, trackId: string): void {
  noteVideoShown(session, trackId, false);
  const prev = pendingOff.get(trackId);
  if (prev) clearTimeout(prev.timer);
  const timer = setTimeout(() => {
    if (pendingOff.get(trackId)?.timer !== timer) return;
    pendingOff.delete(trackId);
    session.setVideoView(trackId, null);
  }, RELEASE_DELAY_MS);
  pendingOff.set(trackId, { session, timer });
}

/**
 * Whether to show "video paused: poor connection". The server reports layer -1 both when
 * it cannot fit the video into our downlink and when we asked it off (tile not shown);
 * right after a tile appears its resume request is still on its way. So the note waits
 * until the video has been asked for long enough and has stayed paused for a while.
 */
const PAUSE_NOTE_AFTER_MS = 2000;

function usePausedNote(session: MeetingSession, trackId: string | null, paused: boolean): boolean {
  const [note, setNote] = useState(false);
  useEffect(() => {
    if (!paused || !trackId) {
      setNote(false);
      return;
    }
    // Paused for a moment is a layer switch or a short dip: only a pause that lasts is
    // worth words (and a frozen frame meanwhile is fine).
    let interval: ReturnType<typeof setInterval> | undefined;
    const check = () => setNote(shownLongEnough(session, trackId));
    const first = setTimeout(() => {
      check();
      interval = setInterval(check, 1000);
    }, PAUSE_NOTE_AFTER_MS);
    return () => {
      clearTimeout(first);
      clearInterval(interval);
    };
  }, [session, trackId, paused]);
  return note && paused;
}

function initial(name: string): string {
  const first = [...name.trim()][0] ?? '?';
  return first.toLocaleUpperCase();
}

const sameTile = (a: TileModel, b: TileModel) =>
  a === b ||
  (a.key === b.key &&
    a.participant === b.participant &&
    a.name === b.name &&
    a.self === b.self &&
    a.kind === b.kind &&
    a.trackId === b.trackId &&
    a.media === b.media &&
    a.videoOff === b.videoOff &&
    a.paused === b.paused &&
    a.micOff === b.micOff &&
    a.speaking === b.speaking &&
    a.role === b.role);

export const Tile = memo(
  TileView,
  (a, b) =>
    sameTile(a.tile, b.tile) &&
    a.session === b.session &&
    a.role === b.role &&
    (a.size === b.size || (a.size?.width === b.size?.width && a.size?.height === b.size?.height)) &&
    a.hand === b.hand &&
    a.quality === b.quality &&
    a.pinned === b.pinned &&
    a.spotlight === b.spotlight &&
    a.onPin === b.onPin,
);
