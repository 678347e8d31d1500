import type { DataSource } from 'typeorm';
import type { EventEnvelope } from '../model/envelope';
import type { EventPage, HostEvent } from '../model/events';
import { decodePageToken, encodePageToken } from './audit-page-token';
import { ENVELOPE_LINE, envelopeColumns, envelopeFromLine, envelopeFromRow, type EnvelopeLine, type EventRow } from './envelope-rows';
import { storeCall } from './store-errors';

export interface AuditFilter {
  hostId?: string;
  fdId?: string;
  type?: string;
  afterVersion?: number;
  /** Only events that occurred at or after this instant. */
  since?: Date;
  pageSize?: number;
  pageToken?: string;
  /** Set for a tenant principal: only that tenant's events. */
  tenantId?: string;
}

export const DEFAULT_PAGE_SIZE = 100;
export const MAX_PAGE_SIZE = 1000;
/** Rows per query when streaming a whole host: large enough to amortize round trips, small enough to keep memory flat for a million events. */
export const STREAM_BATCH = 5000;

/**
 * The select expression of the events rows aggregated into one JSON array of `{type, data}`
 * in version order (`[]` when none): stored `data` is JSON text, so one parse decodes them.
 */
export const EVENTS_ARRAY = `concat('[', string_agg(concat('{"type":', to_json(type), ',"data":', data, '}'), ',' ORDER BY version), ']')`;

/** Read queries over the events table. */
export class EventReads {
  constructor(private readonly dataSource: DataSource) {}

  /** A host's events with afterVersion < version <= toVersion, in version order, in batches. */
  stream(hostId: string, range: StreamRange = {}): AsyncGenerator<EventEnvelope[]> {
    return inBatches(range, (after, upTo) => this.range(hostId, after, upTo));
  }

  /** The domain events of `stream` (type and data), in the same batches: what evolving a decider state reads. */
  streamEvents(hostId: string, range: StreamRange = {}): AsyncGenerator<HostEvent[]> {
    return inBatches(range, (after, upTo) => this.events(hostId, after, upTo));
  }

  /** A host's events with afterVersion < version <= toVersion (all after when toVersion is absent). */
  async range(hostId: string, afterVersion: number, toVersion?: number): Promise<EventEnvelope[]> {
    return (await this.lines(hostId, afterVersion, toVersion)).map(envelopeFromLine);
  }

  /** The same events as `range`, each as the text its hash covers and that hash (a replay proves them). */
  lines(hostId: string, afterVersion: number, toVersion?: number): Promise<EnvelopeLine[]> {
    return storeCall(() =>
      this.dataSource.query(
        `SELECT ${ENVELOPE_LINE} FROM events
          WHERE host_id = $1 AND version > $2 AND ($3::int IS NULL OR version <= $3)
          ORDER BY version`,
        [hostId, afterVersion, toVersion ?? null],
      ),
    );
  }

  /**
   * The domain events of `range`, composed by PostgreSQL into one array (EVENTS_ARRAY): one
   * parse of the events alone, where the envelope lines of `range` cost every row's timestamp
   * and hash text and a parse per row (what loading a decider state does not need).
   */
  events(hostId: string, afterVersion: number, toVersion?: number): Promise<HostEvent[]> {
    return storeCall(async () => {
      const rows: Array<{ events: string }> = await this.dataSource.query(
        `SELECT ${EVENTS_ARRAY} AS events FROM events
          WHERE host_id = $1 AND version > $2 AND ($3::int IS NULL OR version <= $3)`,
        [hostId, afterVersion, toVersion ?? null],
      );
      return JSON.parse(rows[0]!.events) as HostEvent[];
    });
  }

  /**
   * The last version of a host whose event occurred at or before `at` (0 when none did): the
   * host's primary key walked back from its head to the first such event (occurred_at need not
   * follow version across replicas, so the first found is the greatest version that qualifies).
   * It reads the events after `at`; a replay to that version reads those before it.
   */
  versionAt(hostId: string, at: Date): Promise<number> {
    return storeCall(async () => {
      const rows: Array<{ version: number }> = await this.dataSource.query(
        'SELECT version FROM events WHERE host_id = $1 AND occurred_at <= $2 ORDER BY version DESC LIMIT 1',
        [hostId, at.toISOString()],
      );
      return rows[0]?.version ?? 0;
    });
  }

  /**
   * The audit log: filtered, in global commit order, paged by opaque tokens (the position of
   * the page's last event). One host's events are in position order when in version order
   * (append-statement.ts), so a host's page is read along its primary key from the
   * version of the token's event, found by its position; a token of another host's event
   * (a page of another filter) starts at the host's first version and skips to its position.
   */
  async list(filter: AuditFilter): Promise<EventPage> {
    const pageSize = Math.min(Math.max(filter.pageSize ?? DEFAULT_PAGE_SIZE, 1), MAX_PAGE_SIZE);
    const after = filter.pageToken ? decodePageToken(filter.pageToken) : '0';
    const byHost = filter.hostId !== undefined;
    return storeCall(async () => {
      const rows: EventRow[] = await this.dataSource.query(
        `SELECT ${envelopeColumns()} FROM events
          WHERE position > $1::bigint
            AND ${byHost ? 'host_id = $2 AND version > coalesce((SELECT version FROM events WHERE position = $1::bigint AND host_id = $2), 0)' : '($2::text IS NULL OR host_id = $2)'}
            AND ($3::text IS NULL OR fd_id = $3)
            AND ($4::text IS NULL OR type = $4)
            AND ($5::int IS NULL OR version > $5)
            AND ($6::timestamptz IS NULL OR occurred_at >= $6)
            AND ($7::text IS NULL OR tenant_id = $7)
          ORDER BY ${byHost ? 'version' : 'position'}
          LIMIT $8`,
        [
          after,
          filter.hostId ?? null,
          filter.fdId ?? null,
          filter.type ?? null,
          filter.afterVersion ?? null,
          filter.since?.toISOString() ?? null,
          filter.tenantId ?? null,
          pageSize + 1,
        ],
      );
      const page = rows.slice(0, pageSize);
      return {
        events: page.map(envelopeFromRow),
        ...(rows.length > pageSize ? { nextPageToken: encodePageToken(page[page.length - 1].position) } : {}),
      };
    });
  }
}

export interface StreamRange {
  afterVersion?: number;
  toVersion?: number;
  batchSize?: number;
}

/** `read(after, upTo)` over the range, batchSize versions at a time, until a short batch (versions are contiguous) or `toVersion`. */
async function* inBatches<T>(range: StreamRange, read: (after: number, upTo: number) => Promise<T[]>): AsyncGenerator<T[]> {
  let after = range.afterVersion ?? 0;
  const batchSize = range.batchSize ?? STREAM_BATCH;
  for (;;) {
    const upTo = range.toVersion === undefined ? after + batchSize : Math.min(after + batchSize, range.toVersion);
    if (upTo <= after) return;
    const batch = await read(after, upTo);
    if (batch.length) yield batch;
    if (batch.length < upTo - after) return;
    after = upTo;
  }
}
