import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { AppConfig } from '../../src/config';
import type { EventEnvelope } from '../../src/model/envelope';
import type { HostEvent } from '../../src/model/events';
import { EVENTS_BY_KEY, OutboxRelay } from '../../src/messaging/outbox-relay';
import type { EventTransport } from '../../src/messaging/transport';
import { envelopeColumns, envelopeFromRow, type EventRow } from '../../src/store/envelope-rows';
import { EventStore } from '../../src/store/event-store';
import { openScratchDatabase, type ScratchDatabase } from '../support/postgres';

const event = (ioasid: number) => ({ type: 'IoasidAllocated', data: { fdId: 'fd-1', ioasid, extra: { z: 1, a: [ioasid] } } }) as unknown as HostEvent;

class RecordingTransport implements EventTransport {
  readonly published: EventEnvelope[] = [];
  async publish(events: EventEnvelope[]): Promise<void> {
    this.published.push(...events);
  }
  async subscribe(): Promise<void> {}
  async close(): Promise<void> {}
}

/** The relay publishes what the outbox holds: this process's commits from memory, anyone else's read from the store. */
describe('outbox relay', () => {
  let db: ScratchDatabase;
  let relay: OutboxRelay;
  const transport = new RecordingTransport();
  /** The keys the relay looked events up for. */
  const lookedUp: string[] = [];

  before(async () => {
    db = await openScratchDatabase();
    const query = db.dataSource.query.bind(db.dataSource);
    db.dataSource.query = (async (sql: string, parameters?: unknown[]) => {
      if (sql === EVENTS_BY_KEY) {
        const [hosts, versions] = parameters as [string[], number[]];
        lookedUp.push(...hosts.map((h, i) => `${h}/${versions[i]}`));
      }
      return query(sql, parameters);
    }) as typeof db.dataSource.query;
  });
  after(async () => {
    await relay?.onModuleDestroy();
    await db?.close();
  });

  it("publishes each host's events in order, its own as committed and another writer's as stored, then empties the outbox", async () => {
    const local = new EventStore(db.dataSource);
    // Another replica on the same database: its commits reach this relay only through the outbox.
    const other = new EventStore(db.dataSource);
    const append = (store: EventStore, hostId: string, expectedVersion: number, count: number) =>
      store.append({
        hostId,
        expectedVersion,
        events: Array.from({ length: count }, (_, i) => event(expectedVersion + i + 1)),
        actor: 'operator',
        commandId: `c-${hostId}-${expectedVersion}`,
        correlationId: 'relay-test',
      });

    const early = await append(other, 'host-a', 0, 2);
    relay = new OutboxRelay(db.dataSource, local, transport, { role: 'all' } as AppConfig);
    relay.onApplicationBootstrap();
    const mine = [...(await append(local, 'host-a', 2, 2)), ...(await append(local, 'host-b', 0, 3))];
    const late = await append(other, 'host-b', 3, 1);
    mine.push(...(await append(local, 'host-b', 4, 1)));
    await relay.drain();

    const stored = ((await db.dataSource.query(`SELECT ${envelopeColumns()} FROM events ORDER BY host_id, version`)) as EventRow[]).map(envelopeFromRow);
    const byHost = (hostId: string) => transport.published.filter((e) => e.hostId === hostId);
    assert.deepEqual(byHost('host-a'), stored.filter((e) => e.hostId === 'host-a'));
    assert.deepEqual(byHost('host-b'), stored.filter((e) => e.hostId === 'host-b'));
    assert.deepEqual(
      [...new Set(lookedUp)].sort(),
      [...early, ...late].map((e) => `${e.hostId}/${e.version}`).sort(),
      'only the events this process did not commit are read back',
    );
    assert.deepEqual(await db.dataSource.query('SELECT host_id, version FROM outbox'), []);

    // What consumers receive is theirs: changing it leaves the committed envelope as it was.
    const published = transport.published.find((e) => e.eventId === mine[0]!.eventId)!;
    (published.data as unknown as { extra: { a: number[] } }).extra.a.push(99);
    assert.deepEqual((mine[0]!.data as unknown as { extra: { a: number[] } }).extra.a, [3]);
  });
});
