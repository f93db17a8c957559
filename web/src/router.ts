// A small history-API router: the server answers every client route with index.html,
// and the page decides what to show from location.pathname.
import { useEffect, useState } from 'preact/hooks';

export type Route =
  | { name: 'home' }
  | { name: 'new-meeting' }
  | { name: 'meeting'; id: string }
  | { name: 'not-found' };

export function matchRoute(pathname: string): Route {
  if (pathname === '/' || pathname === '/index.html') return { name: 'home' };
  if (pathname === '/new') return { name: 'new-meeting' };
  const m = /^\/m\/([a-z0-9-]{3,64})\/?$/.exec(pathname);
  if (m) return { name: 'meeting', id: m[1] };
  return { name: 'not-found' };
}

export function navigate(to: string): void {
  history.pushState(null, '', to);
  dispatchEvent(new PopStateEvent('popstate'));
}

export function useRoute(): Route {
  const [route, setRoute] = useState(() => matchRoute(location.pathname));
  useEffect(() => {
    const onPop = () => setRoute(matchRoute(location.pathname));
    addEventListener('popstate', onPop);
    return () => removeEventListener('popstate', onPop);
  }, []);
  return route;
}
