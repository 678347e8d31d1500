import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Client } from 'pg';
import { EventFeedReads } from '../../src/store/event-feed-reads';
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
    const start = await reads.present();
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
});
