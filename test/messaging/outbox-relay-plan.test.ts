import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { HostEvent } from '../../src/model/events';
import { EVENTS_BY_KEY, PENDING_KEYS } from '../../src/messaging/outbox-relay';
import { EventStore } from '../../src/store/event-store';
import { openScratchDatabase, type ScratchDatabase } from '../support/postgres';

const HOSTS = 20;
const EVENTS_PER_HOST = 400;
/** The newest events of each host, not yet relayed. */
const PENDING_PER_HOST = 3;

/** Every node of an EXPLAIN (FORMAT JSON) plan. */
function nodes(plan: Record<string, unknown>): Array<Record<string, unknown>> {
  const children = (plan['Plans'] as Array<Record<string, unknown>> | undefined) ?? [];
  return [plan, ...children.flatMap(nodes)];
}

describe('outbox relay query plan', () => {
  let db: ScratchDatabase;

  before(async () => {
    db = await openScratchDatabase();
    // A young log whose outbox was full when its statistics were taken, and now holds only the
    // newest events of each host (the rest relayed), as under load: hashing all of events, or
    // walking it in position order, then looks cheap to the planner. Both were what it chose.
    const store = new EventStore(db.dataSource);
    const event = (i: number) => ({ type: 'IoasidAllocated', data: { fdId: `fd-${i % 16}`, ioasid: i } }) as unknown as HostEvent;
    for (let h = 0; h < HOSTS; h++) {
      for (let v = 0; v < EVENTS_PER_HOST; v += 200) {
        const events = Array.from({ length: 200 }, (_, i) => event(v + i));
        await store.append({ hostId: `host-${h}`, expectedVersion: v, events, actor: 'operator', commandId: `c-${h}-${v}`, correlationId: 'plan' });
      }
    }
    await db.dataSource.query('ANALYZE events');
    await db.dataSource.query('ANALYZE outbox');
    await db.dataSource.query('DELETE FROM outbox WHERE version <= $1', [EVENTS_PER_HOST - PENDING_PER_HOST]);
  });
  after(async () => {
    await db?.close();
  });

  const pendingKeys = async (limit: number): Promise<[string[], number[]]> => {
    const rows: Array<{ host_id: string; version: number }> = await db.dataSource.query(PENDING_KEYS, [limit]);
    return [rows.map((r) => r.host_id), rows.map((r) => r.version)];
  };

  it('reads from events only the events asked for, each by its key: never the whole table', async () => {
    const [{ 'QUERY PLAN': [explained] }] = (await db.dataSource.query(`EXPLAIN (ANALYZE, FORMAT JSON) ${EVENTS_BY_KEY}`, await pendingKeys(1000))) as Array<{
      'QUERY PLAN': Array<{ Plan: Record<string, unknown> }>;
    }>;
    const onEvents = nodes(explained!.Plan).filter((n) => n['Relation Name'] === 'events');
    assert.ok(onEvents.length > 0, 'the plan reads events');
    const read = onEvents.reduce((sum, n) => sum + Number(n['Actual Rows']) * Number(n['Actual Loops']), 0);
    assert.ok(read <= HOSTS * PENDING_PER_HOST, `${read} rows of events read for ${HOSTS * PENDING_PER_HOST} pending: ${JSON.stringify(explained!.Plan)}`);
  });

  it("lists the pending keys, each host's in version order, and finds the event of each", async () => {
    const [hosts, versions] = await pendingKeys(1000);
    assert.equal(hosts.length, HOSTS * PENDING_PER_HOST);
    for (let i = 1; i < hosts.length; i++) {
      if (hosts[i - 1] === hosts[i]) assert.equal(versions[i], versions[i - 1]! + 1);
      else assert.ok(hosts[i - 1]! < hosts[i]!);
    }
    assert.deepEqual([hosts[0], versions[0]], ['host-0', EVENTS_PER_HOST - PENDING_PER_HOST + 1]);
    assert.equal((await pendingKeys(5))[0].length, 5);

    const events: Array<{ host_id: string; version: number }> = await db.dataSource.query(EVENTS_BY_KEY, [hosts, versions]);
    assert.deepEqual(
      events.map((e) => `${e.host_id}/${e.version}`).sort(),
      hosts.map((h, i) => `${h}/${versions[i]}`).sort(),
    );
  });
});
