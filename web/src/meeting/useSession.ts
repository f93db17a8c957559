// The session's state as Preact state: re-renders whenever the session publishes a new
// snapshot.
import { useEffect, useState } from 'preact/hooks';
import type { MeetingSession, MeetingState } from '../session';

export function useSessionState(session: MeetingSession): MeetingState {
  const [state, setState] = useState(() => session.getState());
  useEffect(() => {
    setState(session.getState());
    return session.subscribe(setState);
  }, [session]);
  return state;
}

/** The size of an element in CSS pixels, kept up to date. */
export function useElementSize(el: { current: HTMLElement | null }): { width: number; height: number } {
  const [size, setSize] = useState({ width: 0, height: 0 });
  useEffect(() => {
    const node = el.current;
    if (!node) return;
    const ro = new ResizeObserver((entries) => {
      const r = entries[entries.length - 1].contentRect;
      setSize((s) => (s.width === r.width && s.height === r.height ? s : { width: r.width, height: r.height }));
    });
    ro.observe(node);
    return () => ro.disconnect();
  }, [el.current]);
  return size;
}
