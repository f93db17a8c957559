// The video stage: every tile, laid out for the box it is given. Screen shares come
// first and large; the others share an adaptive grid.
import { useMemo, useRef } from 'preact/hooks';
import { t } from '../strings';
import type { MeetingSession, MeetingState } from '../session';
import { buildTiles, fitGrid } from './tiles';
import { Tile } from './Tile';
import { useElementSize } from './useSession';
import './stage.css';

export function Stage({ state, session }: { state: MeetingState; session: MeetingSession }) {
  const tiles = useMemo(() => buildTiles(state), [state]);
  const screens = tiles.filter((x) => x.kind === 'screen');
  const people = tiles.filter((x) => x.kind === 'camera');
  const stage = useRef<HTMLDivElement>(null);
  const box = useElementSize(stage);
  const grid = screens.length ? null : fitGrid(people.length, box.width, box.height);
  return (
    <div class="stage" ref={stage} role="region" aria-label={t.videosLabel}>
      {screens.length > 0 && (
        <div class="screens">
          {screens.map((tile) => (
            <Tile key={tile.key} tile={tile} session={session} />
          ))}
        </div>
      )}
      <div
        class={grid ? 'grid' : 'grid strip'}
        style={
          grid
            ? {
                '--cols': String(grid.cols),
                '--cols-narrow': String(Math.min(grid.cols, 2)),
                ...(grid.tileWidth > 0 ? { '--tile-w': `${grid.tileWidth}px` } : {}),
              }
            : undefined
        }
      >
        {people.map((tile) => (
          <Tile key={tile.key} tile={tile} session={session} />
        ))}
      </div>
    </div>
  );
}
