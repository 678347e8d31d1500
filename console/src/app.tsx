import { useEffect, useState } from 'preact/hooks';
import { api, ApiError } from './api';
import { Problem } from './components/problem';
import { FdPage } from './pages/fd';
import { FdsPage } from './pages/fds';
import { HostPage } from './pages/host';
import { HostsPage } from './pages/hosts';
import { SignIn } from './pages/sign-in';
import { Link, navigate, Redirect, useRoute } from './route';
import type { WhoAmIView } from './types';
import { currentToken, signIn, signOut, takeTokenFromFragment } from './session';

type Session = { state: 'checking' } | { state: 'signed-out'; error?: unknown } | { state: 'signed-in'; who: WhoAmIView };

/** Where a principal starts: the operator on the hosts, a tenant on its fds (the hosts pages read the operator's hardware view). */
function startPath(who: WhoAmIView): string {
  return who.role === 'operator' ? '/' : '/fds';
}

export function App() {
  const [session, setSession] = useState<Session>(() => (currentToken() ? { state: 'checking' } : { state: 'signed-out' }));

  // The API says whose token it is (a wrong one answers 401 and is not kept).
  const accept = async (token: string) => {
    setSession({ state: 'checking' });
    try {
      const who = await api.whoami(token);
      signIn(token);
      setSession({ state: 'signed-in', who });
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
              {session.who.role === 'operator' && <Link to="/">Hosts</Link>}
              <Link to="/fds">Fds</Link>
            </nav>
            <span class="who" data-role={session.who.role}>
              Signed in as <strong>{session.who.role === 'operator' ? 'operator' : session.who.name}</strong>
            </span>
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
      {session.state === 'signed-in' && <Pages who={session.who} />}
    </>
  );
}

function Pages({ who }: { who: WhoAmIView }) {
  const route = useRoute();
  const [, first, id, ...rest] = route.path.split('/').map(decodeURIComponent);
  // However a tenant reaches / (the address bar, Back, a sign-in there), it goes on to its own start page.
  if (route.path === '/' || route.path === '') return who.role === 'operator' ? <HostsPage /> : <Redirect to={startPath(who)} />;
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
      <Link to={startPath(who)}>{who.role === 'operator' ? 'Back to the hosts' : 'Back to the fds'}</Link>
    </main>
  );
}
