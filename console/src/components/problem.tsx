import { ApiError } from '../api';
import { Link } from '../route';

/** An error as the reader should see it: the API's own status, code and message, in words. */
export function Problem({ error }: { error: unknown }) {
  if (error instanceof ApiError) {
    const lead =
      error.status === 403
        ? 'This page is for the operator: your token may not read it.'
        : error.status === 401
          ? 'The API refused the token. Sign out and sign in again.'
          : error.status === 404
            ? 'Not found.'
            : 'The API answered an error.';
    return (
      <div class="problem" role="alert" data-status={error.status} data-code={error.code}>
        <strong>{lead}</strong>
        <p>
          <code>
            {error.status} {error.code}
          </code>{' '}
          {error.message}
        </p>
        {error.status === 403 && (
          <p>
            A tenant's own fds are under <Link to="/fds">Fds</Link>.
          </p>
        )}
      </div>
    );
  }
  // fetch rejects with a TypeError when the API cannot be reached at all.
  return (
    <div class="problem" role="alert">
      {error instanceof TypeError && <strong>The console could not reach the API.</strong>}
      <p>{error instanceof Error ? error.message : String(error)}</p>
    </div>
  );
}

export function Loading({ what }: { what: string }) {
  return (
    <p class="loading" role="status" aria-live="polite">
      Loading {what}…
    </p>
  );
}
