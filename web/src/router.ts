// A small history-API router: the server answers every client route with index.html,
// and the page decides what to show from location.pathname.
import { useEffect, useState } from 'preact/hooks';
import { isMeetingId } from './meeting-link';

export type Route =
  | { name: 'home' }
  | { name: 'new-meeting' }
  | { name: 'meeting'; id: string }
  | { name: 'signin' }
  | { name: 'signup' }
  | { name: 'account' }
  | { name: 'not-found' };

export function matchRoute(pathname: string): Route {
  if (pathname === '/' || pathname === '/index.html') return { name: 'home' };
  if (pathname === '/new') return { name: 'new-meeting' };
  if (pathname === '/signin') return { name: 'signin' };
  if (pathname === '/signup') return { name: 'signup' };
  if (pathname === '/account') return { name: 'account' };
  // The same rule as the join form, so an address typed by hand and a pasted link agree;
  // capitals are accepted and the address is rewritten in lowercase by useRoute.
  const m = /^\/m\/([^/]+)\/?$/.exec(pathname);
  if (m && isMeetingId(m[1].toLowerCase())) return { name: 'meeting', id: m[1].toLowerCase() };
  return { name: 'not-found' };
}

/** Goes to `to` inside the app. `state` rides along in history.state (the landing page
 *  reads `{ left: <meeting id> }` from it to offer rejoining); `replace` swaps the
 *  current entry instead of adding one. */
export function navigate(to: string, state: unknown = null, replace = false): void {
  if (replace) history.replaceState(state, '', to);
  else history.pushState(state, '', to);
  dispatchEvent(new PopStateEvent('popstate', { state }));
}

/** Rewrites the address bar to the route's canonical form: a meeting id in lowercase.
 *  (/new asks the server for a meeting and then replaces itself with it: app.tsx.)
 *  Returns the route to show. */
function canonicalise(route: Route): Route {
  if (route.name === 'meeting' && location.pathname !== `/m/${route.id}`) {
    history.replaceState(history.state, '', `/m/${route.id}${location.hash}`);
  }
  return route;
}

export function useRoute(): Route {
  const [route, setRoute] = useState(() => canonicalise(matchRoute(location.pathname)));
  useEffect(() => {
    const onPop = () => setRoute(canonicalise(matchRoute(location.pathname)));
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
