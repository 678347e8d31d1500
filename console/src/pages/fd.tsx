import { api } from '../api';
import { FdCard } from '../components/fd-card';
import { Loading, Problem } from '../components/problem';
import { Timeline } from '../components/timeline';
import { useLoad } from '../load';
import { Link } from '../route';
import type { MigrationRecord } from '../types';
import { TableHead } from '../components/table-head';

/** The migrations an fd took part in: started from it, or that imported it. */
async function migrationsOf(fdId: string): Promise<MigrationRecord[]> {
  const lists = await Promise.all(['FdImported', 'MigrationStarted'].map((type) => api.allEvents({ fdId, type })));
  const ids = [...new Set(lists.flat().flatMap((e) => ('migrationId' in e.data ? [e.data.migrationId] : [])))];
  return Promise.all(ids.map((id) => api.migration(id)));
}

export function FdPage({ fdId }: { fdId: string }) {
  const fd = useLoad(() => api.fd(fdId), [fdId]);
  const migrations = useLoad(() => migrationsOf(fdId), [fdId]);
  return (
    <main id="content" tabIndex={-1}>
      {fd.error !== undefined && (
        <>
          <h1>
            fd <code>{fdId}</code>
          </h1>
          <Problem error={fd.error} />
        </>
      )}
      {fd.error === undefined && !fd.data && <Loading what="the fd" />}
      {fd.data && <FdCard fd={fd.data} heading="h1" />}
      {fd.data && (
        <section aria-labelledby="migrations-h">
          <h2 id="migrations-h">Migrations</h2>
          {migrations.error !== undefined && <Problem error={migrations.error} />}
          {migrations.data?.length === 0 && <p>This fd has not migrated.</p>}
          {migrations.data && migrations.data.length > 0 && (
            <div class="scroll">
              <table class="migrations">
                <caption class="sr-only">Migrations of this fd</caption>
                <TableHead columns={['Migration', 'State', 'From', 'To', 'Started', 'Ended', 'Reason']} />
                <tbody>
                  {migrations.data.map((m) => (
                    <tr key={m.migrationId} data-migration-id={m.migrationId} data-state={m.state}>
                      <td>
                        <code>{m.migrationId}</code>
                      </td>
                      <td>{m.state}</td>
                      <td>
                        <code>{m.sourceHostId}</code> fd{' '}
                        <Link to={`/fds/${encodeURIComponent(m.fdId)}`}>
                          <code>{m.fdId}</code>
                        </Link>
                      </td>
                      <td>
                        <code>{m.targetHostId}</code>
                        {m.targetFdId && (
                          <>
                            {' '}
                            fd{' '}
                            <Link to={`/fds/${encodeURIComponent(m.targetFdId)}`}>
                              <code>{m.targetFdId}</code>
                            </Link>
                          </>
                        )}
                      </td>
                      <td>
                        <time dateTime={m.startedAt}>{new Date(m.startedAt).toLocaleString()}</time>
                      </td>
                      <td>{m.endedAt ? <time dateTime={m.endedAt}>{new Date(m.endedAt).toLocaleString()}</time> : '—'}</td>
                      <td>{m.reason ?? '—'}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          )}
        </section>
      )}
      {fd.data && <Timeline scope={{ fdId }} arrived={[]} />}
    </main>
  );
}
