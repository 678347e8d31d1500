import type { ComponentChildren } from 'preact';
import { useEffect, useState } from 'preact/hooks';

// The console's own routing under /ui/: paths and ?version= live in the address bar so that a
// view can be shared; history.pushState moves between views without a reload.

export const BASE = '/ui';

export interface Route {
  /** The path below /ui, e.g. "/hosts/host-a". */
  path: string;
  query: URLSearchParams;
}

function current(): Route {
  const path = location.pathname.startsWith(BASE) ? location.pathname.slice(BASE.length) || '/' : '/';
  return { path, query: new URLSearchParams(location.search) };
}

const listeners = new Set<() => void>();
addEventListener('popstate', () => listeners.forEach((l) => l()));

export function navigate(to: string, options: { replace?: boolean } = {}): void {
  const url = `${BASE}${to}`;
  if (options.replace) history.replaceState(null, '', url);
  else history.pushState(null, '', url);
  listeners.forEach((l) => l());
}

export function useRoute(): Route {
  const [route, setRoute] = useState(current);
  useEffect(() => {
    const update = () => setRoute(current());
    listeners.add(update);
    // A navigation between the render and this subscription (a child's Redirect, whose effect runs first) is not missed.
    update();
    return () => void listeners.delete(update);
  }, []);
  return route;
}

/** A link inside the console: a real href (open in a new tab works), followed without a reload. */
export function Link(props: { to: string; children: ComponentChildren; 'aria-label'?: string }) {
  const { to, children, ...rest } = props;
  return (
    <a
      href={`${BASE}${to}`}
      {...rest}
      onClick={(e) => {
        if (e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) return;
        e.preventDefault();
        navigate(to);
      }}
    >
      {children}
    </a>
  );
}

/** Replaces the current view with `to` (no history entry: Back does not return here). */
export function Redirect({ to }: { to: string }) {
  useEffect(() => navigate(to, { replace: true }), [to]);
  return null;
}
