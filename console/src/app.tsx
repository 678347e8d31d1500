import { useEffect, useState } from 'preact/hooks';
import { apiGet, ApiError } from './api';
import { Problem } from './components/problem';
import { FdPage } from './pages/fd';
import { FdsPage } from './pages/fds';
import { HostPage } from './pages/host';
import { HostsPage } from './pages/hosts';
import { SignIn } from './pages/sign-in';
import { Link, navigate, useRoute } from './route';
import type { EventPage } from './types';
import { currentToken, signIn, signOut, takeTokenFromFragment } from './session';

type Session = { state: 'checking' } | { state: 'signed-out'; error?: unknown } | { state: 'signed-in' };

/**
 * Checks a token with the API before keeping it (a wrong one answers 401 and is not kept).
 * The start page is the operator's hosts when the token reads the first host's registration
 * (an event of no tenant: a tenant reads only events of its own, each carrying its tenantId),
 * else the fds. (Asking an operator route instead would answer a tenant 403, an error in the
 * browser's console on every sign-in.)
 */
async function checkToken(token: string): Promise<void> {
  const { events } = await apiGet<EventPage>('/v1/events', { pageSize: 1 }, token);
  const operator = events.length > 0 && events[0].tenantId === undefined;
  if (location.pathname === '/ui/' && !operator) navigate('/fds', { replace: true });
}

export function App() {
  const [session, setSession] = useState<Session>(() => (currentToken() ? { state: 'checking' } : { state: 'signed-out' }));

  const accept = async (token: string) => {
    setSession({ state: 'checking' });
    try {
      await checkToken(token);
      signIn(token);
      setSession({ state: 'signed-in' });
    } catch (error) {
      signOut();
      setSession({ state: 'signed-out', error });
    }
  };

  useEffect(() => {
    const token = currentToken();
    if (token) void accept(token);
    // A link with #token= opened in a tab already showing the console changes only the fragment.
    const onHash = () => {
      const given = takeTokenFromFragment();
      if (given) void accept(given);
    };
    addEventListener('hashchange', onHash);
    return () => removeEventListener('hashchange', onHash);
  }, []);

  const leave = () => {
    signOut();
    setSession({ state: 'signed-out' });
    navigate('/');
  };

  return (
    <>
      <a class="skip" href="#content">
        Skip to content
      </a>
      <header class="top">
        <span class="brand">IOASID console</span>
        {session.state === 'signed-in' && (
          <>
            <nav aria-label="Main">
              <Link to="/">Hosts</Link>
              <Link to="/fds">Fds</Link>
            </nav>
            <button type="button" class="sign-out" onClick={leave}>
              Sign out
            </button>
          </>
        )}
      </header>
      {session.state === 'checking' && (
        <main id="content" tabIndex={-1}>
          <p role="status">Checking the token…</p>
        </main>
      )}
      {session.state === 'signed-out' && <SignIn error={session.error} onToken={accept} />}
      {session.state === 'signed-in' && <Pages />}
    </>
  );
}

function Pages() {
  const route = useRoute();
  const [, first, id, ...rest] = route.path.split('/').map(decodeURIComponent);
  if (route.path === '/' || route.path === '') return <HostsPage />;
  if (first === 'hosts' && id && rest.length === 0) {
    const version = route.query.get('version');
    return <HostPage hostId={id} version={version === null || !/^\d+$/.test(version) ? undefined : Number(version)} />;
  }
  if (first === 'fds' && !id) return <FdsPage />;
  if (first === 'fds' && id && rest.length === 0) return <FdPage fdId={id} />;
  return (
    <main id="content" tabIndex={-1}>
      <h1>Not found</h1>
      <Problem error={new ApiError(404, 'NOT_FOUND', `no console page at ${location.pathname}`)} />
      <Link to="/">Back to the hosts</Link>
    </main>
  );
}
