import { api } from '../api';
import { FdCard } from '../components/fd-card';
import { Loading, Problem } from '../components/problem';
import { useLoad } from '../load';

/** The fds the token may see: a tenant's own (the operator's: all). */
export function FdsPage() {
  const fds = useLoad(() => api.fds(), []);
  return (
    <main id="content" tabIndex={-1}>
      <h1>Fds</h1>
      {fds.error !== undefined && <Problem error={fds.error} />}
      {fds.error === undefined && !fds.data && <Loading what="fds" />}
      {fds.data?.length === 0 && <p>No fd is open.</p>}
      {fds.data?.map((fd) => (
        <FdCard key={fd.fdId} fd={fd} heading="h2" />
      ))}
    </main>
  );
}
