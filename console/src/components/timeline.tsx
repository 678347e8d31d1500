import { useEffect, useState } from 'preact/hooks';
import { api } from '../api';
import { fdIdOf } from '../history';
import type { EventEnvelope } from '../types';
import { short } from './pasid-map';
import { Problem } from './problem';
import { TableHead } from './table-head';

const PAGE_SIZE = 100;

/**
 * The events of a host (or of one fd) in commit order, filtered by type and fd on the server,
 * a page at a time; events that arrive live are appended once the list has reached the end.
 */
export function Timeline(props: {
  scope: { hostId: string } | { fdId: string };
  fdIds?: string[];
  arrived: EventEnvelope[];
  selected?: number;
  onSelect?: (e: EventEnvelope) => void;
}) {
  const { scope, fdIds, arrived, selected, onSelect } = props;
  const [type, setType] = useState('');
  const [fdId, setFdId] = useState('');
  const [events, setEvents] = useState<EventEnvelope[]>([]);
  const [next, setNext] = useState<string>();
  const [error, setError] = useState<unknown>();
  const [seenTypes, setSeenTypes] = useState<string[]>([]);
  const [open, setOpen] = useState<EventEnvelope>();
  const scopeKey = JSON.stringify(scope);

  const query = { ...scope, type: type || undefined, ...(fdId ? { fdId } : {}) };
  const load = async (pageToken?: string) => {
    try {
      const page = await api.events({ ...query, pageSize: PAGE_SIZE, pageToken });
      setEvents((old) => (pageToken ? [...old, ...page.events] : page.events));
      setNext(page.nextPageToken);
      setError(undefined);
    } catch (e) {
      setError(e);
    }
  };
  useEffect(() => {
    void load();
  }, [scopeKey, type, fdId]);
  useEffect(() => {
    if (next || arrived.length === 0) return;
    setEvents((old) => {
      const last = old[old.length - 1]?.version ?? 0;
      const fresh = arrived.filter((e) => e.version > last && (!type || e.type === type) && (!fdId || fdIdOf(e) === fdId));
      return fresh.length ? [...old, ...fresh] : old;
    });
  }, [arrived]);
  useEffect(() => {
    const types = new Set([...seenTypes, ...events.map((e) => e.type)]);
    if (types.size !== seenTypes.length) setSeenTypes([...types].sort());
  }, [events]);

  return (
    <section class="timeline" aria-labelledby="history-h">
      <h2 id="history-h">History</h2>
      <div class="filters">
        <label for="filter-type">Event type</label>
        <select id="filter-type" value={type} onChange={(e) => setType(e.currentTarget.value)}>
          <option value="">all</option>
          {seenTypes.map((t) => (
            <option value={t}>{t}</option>
          ))}
        </select>
        {fdIds && (
          <>
            <label for="filter-fd">fd</label>
            <select id="filter-fd" value={fdId} onChange={(e) => setFdId(e.currentTarget.value)}>
              <option value="">all</option>
              {fdIds.map((f) => (
                <option value={f}>{f}</option>
              ))}
            </select>
          </>
        )}
      </div>
      {error !== undefined && <Problem error={error} />}
      <div class="scroll events-scroll">
        <table class="events">
          <caption class="sr-only">Events</caption>
          <TableHead columns={['Version', 'Type', 'fd', 'Actor', 'Correlation id', 'Time']} />
          <tbody>
            {events.map((e) => (
              <tr key={e.eventId} data-event-version={e.version} class={selected === e.version ? 'selected' : undefined} aria-current={selected === e.version ? 'true' : undefined}>
                <td>
                  <button
                    type="button"
                    class="linkish"
                    aria-label={`event ${e.version} ${e.type}: show its envelope${onSelect ? ' and the host at this version' : ''}`}
                    onClick={() => {
                      setOpen(e);
                      onSelect?.(e);
                    }}
                  >
                    {e.version}
                  </button>
                </td>
                <td>{e.type}</td>
                <td>
                  <code>{fdIdOf(e) ? short(fdIdOf(e)!) : '—'}</code>
                </td>
                <td>{e.actor}</td>
                <td>
                  <code title={e.correlationId}>{short(e.correlationId)}</code>
                </td>
                <td>
                  <time dateTime={e.occurredAt}>{new Date(e.occurredAt).toLocaleString()}</time>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      {events.length === 0 && error === undefined && <p>No event.</p>}
      {next && (
        <button type="button" onClick={() => void load(next)}>
          Load more events
        </button>
      )}
      {open && (
        <div class="envelope" aria-labelledby="envelope-h">
          <h3 id="envelope-h">
            Envelope of version {open.version} ({open.type}){' '}
            <button type="button" class="linkish" onClick={() => setOpen(undefined)} aria-label="Close the envelope">
              close
            </button>
          </h3>
          <pre tabIndex={0}>{JSON.stringify(open, null, 2)}</pre>
        </div>
      )}
    </section>
  );
}
