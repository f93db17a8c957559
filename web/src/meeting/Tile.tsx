// One tile of the grid: a person's camera (or screen), their name, whether their
// microphone is off, and an outline while they speak. A remote tile tells the session how
// large it is shown, in device pixels, so that the server sends a fitting layer, and
// that it is not shown at all when it is scrolled away or hidden.
import { useEffect, useRef } from 'preact/hooks';
import { t } from '../strings';
import type { MeetingSession } from '../session';
import type { TileModel } from './tiles';
import { MicOffIcon } from './icons';

export function Tile({ tile, session }: { tile: TileModel; session: MeetingSession }) {
  const video = useRef<HTMLVideoElement>(null);
  const showVideo = tile.media !== null && !tile.videoOff;

  useEffect(() => {
    const el = video.current;
    if (!el) return;
    el.srcObject = tile.media ? new MediaStream([tile.media]) : null;
    if (tile.media) el.play().catch(() => {});
  }, [tile.media]);

  const remoteId = tile.self ? null : tile.trackId;
  useEffect(() => {
    const el = video.current;
    if (!remoteId || !el) return;
    let size: { width: number; height: number } | null = null;
    let visible = true;
    const report = () =>
      session.setVideoView(remoteId, visible && size && size.width >= 1 && size.height >= 1 ? size : null);
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
      session.setVideoView(remoteId, null);
    };
  }, [remoteId, session]);

  const label =
    tile.kind === 'screen'
      ? tile.self
        ? t.yourScreen
        : t.screenOf(tile.name)
      : tile.self
        ? t.you(tile.name)
        : tile.name;
  const classes = ['tile', `tile-${tile.kind}`];
  if (tile.speaking && tile.kind === 'camera') classes.push('speaking');
  if (!showVideo) classes.push('no-video');

  return (
    <div
      class={classes.join(' ')}
      role="group"
      aria-label={label}
      data-participant={tile.participant}
      data-source={tile.kind}
      data-speaking={tile.speaking && tile.kind === 'camera' ? 'true' : undefined}
    >
      {/* A remote video stays laid out while it waits for its first frames, so that its
          size is known; it is hidden (0×0: paused at the server) while switched off. */}
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
        <div class="avatar" aria-hidden="true">
          {initial(tile.name)}
        </div>
      )}
      <div class="tile-name">
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

function initial(name: string): string {
  const first = [...name.trim()][0] ?? '?';
  return first.toLocaleUpperCase();
}
