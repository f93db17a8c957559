// A small history-API router: the server answers every client route with index.html,
// and the page decides what to show from location.pathname.
import { useEffect, useState } from 'preact/hooks';
import { isMeetingId } from './meeting-link';

export type Route =
  | { name: 'home' }
  | { name: 'new-meeting' }
  | { name: 'meeting'; id: string }
  | { name: 'not-found' };

export function matchRoute(pathname: string): Route {
  if (pathname === '/' || pathname === '/index.html') return { name: 'home' };
  if (pathname === '/new') return { name: 'new-meeting' };
  // The same rule as the join form, so an address typed by hand and a pasted link agree;
  // capitals are accepted and the address is rewritten in lowercase by useRoute.
  const m = /^\/m\/([^/]+)\/?$/.exec(pathname);
  if (m && isMeetingId(m[1].toLowerCase())) return { name: 'meeting', id: m[1].toLowerCase() };
  return { name: 'not-found' };
}

export function navigate(to: string): void {
  history.pushState(null, '', to);
  dispatchEvent(new PopStateEvent('popstate'));
}

function canonicalise(route: Route): void {
  if (route.name === 'meeting' && location.pathname !== `/m/${route.id}`) {
    history.replaceState(null, '', `/m/${route.id}${location.hash}`);
  }
}

export function useRoute(): Route {
  const [route, setRoute] = useState(() => matchRoute(location.pathname));
  useEffect(() => {
    canonicalise(route);
    const onPop = () => {
      const next = matchRoute(location.pathname);
      canonicalise(next);
      setRoute(next);
    };
    addEventListener('popstate', onPop);
    return () => removeEventListener('popstate', onPop);
  }, []);
  return route;
}

/** onClick for an in-app link: routes without reloading, except for a click that asks
 *  for a new tab or window. */
export function linkHandler(to: string) {
  return (e: MouseEvent) => {
    if (e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) return;
    e.preventDefault();
    navigate(to);
  };
}
