// The bearer token lives in this tab's sessionStorage only: never in a cookie, a URL sent to
// the server, or localStorage. A token handed over as `#token=...` is taken once and the
// fragment removed from the address bar (and from the tab's history entry).

const KEY = 'ioasid.token';

/** Moves a `#token=` of the address bar to sessionStorage; returns it (null when there was none). */
export function takeTokenFromFragment(): string | null {
  const token = new URLSearchParams(location.hash.slice(1)).get('token');
  if (token === null) return null;
  if (token !== '') sessionStorage.setItem(KEY, token);
  history.replaceState(history.state, '', location.pathname + location.search);
  return token || null;
}

export function currentToken(): string | null {
  return sessionStorage.getItem(KEY);
}

export function signIn(token: string): void {
  sessionStorage.setItem(KEY, token);
}

export function signOut(): void {
  sessionStorage.removeItem(KEY);
}
