import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Client } from 'pg';
import { EventFeed } from '../../src/application/watch/event-feed';
import type { EventStore } from '../../src/store/event-store';
import { EventFeedReads, FEED_PAGE_SQL, feedPageParams } from '../../src/store/event-feed-reads';
import { LOG_START } from '../../src/store/watch-cursor';
import { openScratchDatabase, type ScratchDatabase } from '../support/postgres';

/** An event row inserted on `client` (in whatever transaction it has open). */
function insertEvent(client: Client, hostId: string): Promise<unknown> {
  return client.query(
    `INSERT INTO events (host_id, version, event_id, type, schema_version, data, actor, command_id, correlation_id, occurred_at, prev_hash, hash)
     VALUES ($1, 1, gen_random_uuid(), 'HostRegistered', 1, '{}', 'operator', 'x', 'x', now(), 'x', 'x')`,
    [hostId],
  );
}

/**
 * Positions are taken at insert and committed out of order: the watch must never hand out a
 * cursor past an event that commits later. Two transactions on their own connections, the
 * one holding the lower position committing last.
 */
describe('the watch\'s high-water mark', () => {
  let db: ScratchDatabase;
  let early: Client;
  let late: Client;

  before(async () => {
    db = await openScratchDatabase();
    early = new Client({ connectionString: db.url });
    late = new Client({ connectionString: db.url });
    await early.connect();
    await late.connect();
  });
  after(async () => {
    await early?.end();
    await late?.end();
    await db?.close();
  });

  it('holds back an event committed above a transaction still running, and delivers both in order once it ends', async () => {
    const reads = new EventFeedReads(db.dataSource);
    const start = (await reads.present()).cursor;
    await early.query('BEGIN');
    await insertEvent(early, 'host-early');
    // Committed, with a higher position than the open transaction's event.
    await insertEvent(late, 'host-late');
    const positions = await db.dataSource.query("SELECT host_id, position FROM events ORDER BY position");
    assert.deepEqual(positions.map((r: { host_id: string }) => r.host_id), ['host-late'], 'only the committed row is visible');

    const held = await reads.page(start, {}, 100);
    assert.deepEqual(held.events, [], 'nothing is delivered while an older transaction may still add an event before it');
    assert.equal(held.held, true);

    await early.query('COMMIT');
    // Other transactions on the server (other databases too) may hold the mark a moment longer.
    let delivered = await reads.page(start, {}, 100);
    for (let attempt = 0; attempt < 200 && delivered.events.length < 2; attempt++) {
      await new Promise((resolve) => setTimeout(resolve, 10));
      delivered = await reads.page(start, {}, 100);
    }
    assert.deepEqual(delivered.events.map((e) => e.envelope.hostId), ['host-early', 'host-late'], 'both, the early transaction\'s first');
    const [, lastCursor] = delivered.events.map((e) => e.cursor);
    assert.deepEqual((await reads.page(lastCursor, {}, 100)).events, [], 'nothing after the last cursor');
    assert.deepEqual((await reads.page(LOG_START, { hostId: 'host-late' }, 100)).events.map((e) => e.envelope.hostId), ['host-late']);
  });

  it('starts a watch without a cursor after every event committed before it, though an older transaction still runs', async () => {
    const reads = new EventFeedReads(db.dataSource);
    // The commit signal is this process's own appends, and there are none here: the feed polls.
    const feed = new EventFeed(reads, { onCommit: () => () => undefined } as unknown as EventStore);
    await early.query('BEGIN');
    await insertEvent(early, 'host-running');
    await insertEvent(late, 'host-before');
    const watch = feed.subscribe({}, await reads.present());
    try {
      await insertEvent(late, 'host-after');
      await early.query('COMMIT');
      const items = watch[Symbol.asyncIterator]();
      const hosts = [];
      for (let i = 0; i < 2; i++) {
        const { value } = await items.next();
        hosts.push(value.kind === 'event' ? value.event.hostId : value.kind);
      }
      assert.deepEqual(hosts, ['host-running', 'host-after'], 'the event committed before the watch opened is not in it; the one still running then is');
    } finally {
      watch.close();
      feed.onModuleDestroy();
    }
  });
});

/** Rows each node of an EXPLAIN ANALYZE (FORMAT JSON) plan produced or filtered out, times its loops, summed. */
function rowsTouched(node: PlanNode): number {
  const own = ((node['Actual Rows'] ?? 0) + (node['Rows Removed by Filter'] ?? 0) + (node['Rows Removed by Index Recheck'] ?? 0)) * (node['Actual Loops'] ?? 1);
  return own + (node.Plans ?? []).reduce((sum, child) => sum + rowsTouched(child), 0);
}

interface PlanNode {
  'Actual Rows'?: number;
  'Actual Loops'?: number;
  'Rows Removed by Filter'?: number;
  'Rows Removed by Index Recheck'?: number;
  Plans?: PlanNode[];
}

/** The feed polls on every commit while a watch is open: a page must cost what it returns, not what the log holds. */
describe('a page of the watch on a long log', () => {
  let db: ScratchDatabase;
  const EVENTS = 20_000;
  const PAGE = 100;

  before(async () => {
    db = await openScratchDatabase();
    // 200 transactions of 100 events over 200 hosts: ids and positions as many writers leave them.
    for (let t = 0; t < EVENTS / 100; t++) {
      await db.dataSource.query(
        `INSERT INTO events (host_id, version, event_id, type, schema_version, data, actor, command_id, correlation_id, occurred_at, prev_hash, hash)
         SELECT 'host-' || (($1::int * 100 + v) % 200), $1::int * 100 + v, gen_random_uuid(), 'HostRegistered', 1, '{}', 'operator', 'x', 'x', now(), 'x', 'x'
           FROM generate_series(1, 100) AS v`,
        [t],
      );
    }
    await db.dataSource.query('ANALYZE events');
  });
  after(async () => {
    await db?.close();
  });

  for (const [name, filter] of [['the live feed (no filter)', {}], ['a host\'s catch-up', { hostId: 'host-7' }]] as const) {
    it(`reads a number of rows in proportion to the page, not to the log: ${name}`, async () => {
      const [{ 'QUERY PLAN': plans }] = await db.dataSource.query(`EXPLAIN (ANALYZE, FORMAT JSON) ${FEED_PAGE_SQL}`, feedPageParams(LOG_START, filter, PAGE));
      const touched = rowsTouched((plans as Array<{ Plan: PlanNode }>)[0].Plan);
      assert.ok(touched <= 10 * PAGE, `a ${PAGE}-event page touched ${touched} rows of a ${EVENTS}-event log`);
    });
  }
});
