import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import type { EventEnvelope } from '../model/envelope';
import { envelopeJson, fdIdOf } from './envelope-rows';
import { storeCall } from './store-errors';
import { LOG_START, presentOf, type FeedCursor, type Present } from './watch-cursor';

/** What a watcher asks for; absent fields do not filter. The same rules as the audit log's filter. */
export interface FeedFilter {
  hostId?: string;
  fdId?: string;
  type?: string;
  /** Only events of `hostId` after this version. */
  afterVersion?: number;
  /** A tenant's watch: only that tenant's events. */
  tenantId?: string;
}

/** `filter` applied to an event in memory: exactly the conditions of the SQL in `page`. */
export function passesFilter(filter: FeedFilter, event: FeedEvent): boolean {
  return (
    (filter.hostId === undefined || event.hostId === filter.hostId) &&
    (filter.fdId === undefined || event.fdId === filter.fdId) &&
    (filter.type === undefined || event.type === filter.type) &&
    (filter.afterVersion === undefined || event.version > filter.afterVersion) &&
    (filter.tenantId === undefined || event.tenantId === filter.tenantId)
  );
}

/**
 * An event as the watch reads it: its place in the log, the columns a watch filters on, and its
 * envelope as JSON text or as an object, whichever it came as: the JSON as the audit log writes
 * it (composed by PostgreSQL, `envelopeJson`), which an SSE watch sends as it is, or an envelope
 * in hand (a tenant's copy); each form is made from the other only for a transport that needs it.
 */
export class FeedEvent {
  private constructor(
    readonly cursor: FeedCursor,
    readonly hostId: string,
    readonly version: number,
    readonly type: string,
    readonly fdId: string | null,
    readonly tenantId: string | null,
    private text?: string,
    private decoded?: EventEnvelope,
  ) {}

  /** The event of a row of the log, with its envelope's JSON text. */
  static read(cursor: FeedCursor, hostId: string, version: number, type: string, fdId: string | null, tenantId: string | null, json: string): FeedEvent {
    return new FeedEvent(cursor, hostId, version, type, fdId, tenantId, json);
  }

  /** The event of an envelope already in hand (a tenant's copy, tests). */
  static of(envelope: EventEnvelope, cursor: FeedCursor): FeedEvent {
    return new FeedEvent(cursor, envelope.hostId, envelope.version, envelope.type, fdIdOf(envelope), envelope.tenantId ?? null, undefined, envelope);
  }

  get json(): string {
    return (this.text ??= JSON.stringify(this.decoded));
  }

  get envelope(): EventEnvelope {
    return (this.decoded ??= JSON.parse(this.text!) as EventEnvelope);
  }
}

export interface FeedPage {
  events: FeedEvent[];
  /** Every event up to here has been read (when the page was not full): the high-water mark. */
  highWater: FeedCursor;
  /** Some events are committed above the high-water mark, held back by an older transaction still running. */
  held: boolean;
}

interface FeedPageRow {
  xmin: string;
  held: boolean;
  tx_id: string | null;
  position: string;
  host_id: string;
  version: number;
  type: string;
  fd_id: string | null;
  tenant_id: string | null;
  json: string;
}

/**
 * One page of the watch: the high-water mark, whether events are held above it, and the page
 * below it. `held` is computed once per page, from the newest tx found by the index: written as
 * an EXISTS beside the page, PostgreSQL ran it once per row returned, each a sequential scan of
 * the whole log (test/watch/high-water-mark.test.ts counts the rows a page reads).
 */
export const FEED_PAGE_SQL = `WITH hw AS MATERIALIZED (
     SELECT s.xmin, COALESCE((SELECT tx FROM events ORDER BY tx DESC LIMIT 1) >= s.xmin, false) AS held
       FROM (SELECT pg_snapshot_xmin(pg_current_snapshot()) AS xmin) s)
   SELECT hw.xmin::text AS xmin, hw.held, p.*
     FROM hw LEFT JOIN LATERAL (
       SELECT e.tx AS tx_id, e.position, e.host_id, e.version, e.type, e.fd_id, e.tenant_id, ${envelopeJson('e')} AS json FROM events e
        WHERE (e.tx, e.position) > ($1::xid8, $2::bigint) AND e.tx < hw.xmin
          AND ($3::xid8 IS NULL OR (e.tx, e.position) <= ($3::xid8, $4::bigint))
          AND ($5::text IS NULL OR e.host_id = $5) AND ($6::text IS NULL OR e.fd_id = $6)
          AND ($7::text IS NULL OR e.type = $7) AND ($8::int IS NULL OR e.version > $8)
          AND ($9::text IS NULL OR e.tenant_id = $9)
        ORDER BY e.tx, e.position LIMIT $10) p ON true
    ORDER BY p.tx_id, p.position`;

export function feedPageParams(after: FeedCursor, filter: FeedFilter, limit: number, upTo?: FeedCursor): unknown[] {
  return [
    after.tx.toString(),
    after.position.toString(),
    upTo?.tx.toString() ?? null,
    upTo?.position.toString() ?? null,
    filter.hostId ?? null,
    filter.fdId ?? null,
    filter.type ?? null,
    filter.afterVersion ?? null,
    filter.tenantId ?? null,
    limit,
  ];
}

/**
 * The watch's reads of the events table, in (tx, position) order and only below the
 * high-water mark: events of transactions older than the oldest one still running, which have
 * all ended, so nothing can appear below the mark later (migrations/1732470000000).
 */
@Injectable()
export class EventFeedReads {
  constructor(private readonly dataSource: DataSource) {}

  /** Up to `limit` events after `after` (and at or below `upTo`, when given) that pass the filter. */
  async page(after: FeedCursor, filter: FeedFilter, limit: number, upTo?: FeedCursor): Promise<FeedPage> {
    const rows: FeedPageRow[] = await storeCall(() => this.dataSource.query(FEED_PAGE_SQL, feedPageParams(after, filter, limit, upTo)));
    const events = rows
      .filter((r) => r.tx_id !== null)
      .map((r) => FeedEvent.read({ tx: BigInt(r.tx_id!), position: BigInt(r.position) }, r.host_id, r.version, r.type, r.fd_id, r.tenant_id, r.json));
    return { events, highWater: { tx: BigInt(rows[0].xmin), position: 0n }, held: rows[0].held };
  }

  /** The present: after everything committed now. */
  async present(): Promise<Present> {
    const rows: Array<{ snapshot: string }> = await storeCall(() => this.dataSource.query('SELECT pg_current_snapshot()::text AS snapshot'));
    return presentOf(rows[0].snapshot);
  }

  /** Right after a host's event `version` (the log's start for version 0); undefined when the host has no such event yet. */
  async afterVersion(hostId: string, version: number): Promise<FeedCursor | undefined> {
    if (version === 0) return LOG_START;
    const rows: Array<{ tx: string; position: string }> = await storeCall(() =>
      this.dataSource.query('SELECT tx::text AS tx, position FROM events WHERE host_id = $1 AND version = $2', [hostId, version]),
    );
    return rows.length ? { tx: BigInt(rows[0].tx), position: BigInt(rows[0].position) } : undefined;
  }
}
