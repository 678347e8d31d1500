import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { MigrationsReadModel1732430000000 } from '../../migrations/1732430000000-migrations-read-model';
import { MigrationRecords } from '../../src/application/migration/migration-records';
import type { HostEvent } from '../../src/model/events';
import type { Released } from '../../src/model/values';
import { openDatabase, type Database } from '../../src/store/database';
import { EventStore } from '../../src/store/event-store';
import { createTestDatabase, type TestDatabase } from '../support/postgres';

const NOTHING: Released = { pasids: [], entries: [], contexts: [], kvmGuestPasids: [], mdevs: [] };

function started(fdId: string, migrationId: string): HostEvent {
  return { type: 'MigrationStarted', data: { fdId, migrationId, targetHostId: 'host-b' } };
}

function imported(fdId: string, migrationId: string, sourceFdId: string): HostEvent {
  return {
    type: 'FdImported',
    data: {
      fdId,
      tenantId: 'tenant-1',
      vmId: `vm-of-${sourceFdId}`,
      domainId: 1,
      migrationId,
      sourceHostId: 'host-a',
      sourceFdId,
      hwidMode: null,
      globalMin: null,
      ioasids: [],
      programmed: [],
      guestContexts: [],
      kvmMappings: [],
      allocatedPasids: [],
    },
  };
}

/**
 * The migrations read model is written by a trigger in the transaction of each migration
 * event, whoever appends it; and rebuilt from the events when its migration first runs.
 */
describe('the migrations read model', () => {
  let db: TestDatabase;
  let database: Database;
  let events: EventStore;
  let records: MigrationRecords;
  const versions = new Map<string, number>();

  async function append(hostId: string, event: HostEvent): Promise<void> {
    const expectedVersion = versions.get(hostId) ?? 0;
    await events.append({ hostId, expectedVersion, events: [event], tenantId: 'tenant-1', actor: 'operator', commandId: 'c', correlationId: 'c' });
    versions.set(hostId, expectedVersion + 1);
  }

  before(async () => {
    db = await createTestDatabase('ioasid_migration_model');
    database = await openDatabase({ databaseUrl: db.url, dataDir: '' });
    events = new EventStore(database.dataSource);
    records = new MigrationRecords(database.dataSource);
  });
  after(async () => {
    await database?.close();
    await db?.drop();
  });

  it('follows each migration from its start to its end, in the same commits as the events', async () => {
    await append('host-a', started('fd-1', 'm-1'));
    const running = await records.find('m-1');
    assert.deepEqual(
      { ...running, startedAt: undefined },
      { migrationId: 'm-1', fdId: 'fd-1', sourceHostId: 'host-a', targetHostId: 'host-b', state: 'running', tenantId: 'tenant-1', startedAt: undefined },
    );
    assert.ok(!Number.isNaN(Date.parse(running!.startedAt)));

    await append('host-b', imported('fd-2', 'm-1', 'fd-1'));
    assert.equal((await records.find('m-1'))?.targetFdId, 'fd-2', 'the import names the target fd while still running');

    await append('host-a', { type: 'FdMigratedOut', data: { fdId: 'fd-1', migrationId: 'm-1', targetFdId: 'fd-2', released: NOTHING } });
    const completed = await records.find('m-1');
    assert.equal(completed?.state, 'completed');
    assert.ok(completed?.endedAt);

    await append('host-a', started('fd-3', 'm-2'));
    await append('host-a', { type: 'MigrationAborted', data: { fdId: 'fd-3', migrationId: 'm-2', reason: 'DEVICE_BUSY: taken' } });
    const aborted = await records.find('m-2');
    assert.equal(aborted?.state, 'aborted');
    assert.equal(aborted?.reason, 'DEVICE_BUSY: taken');
    assert.equal(aborted?.targetFdId, undefined);

    await append('host-a', started('fd-4', 'm-3'));
    await append('host-b', { type: 'MigrationImportBarred', data: { migrationId: 'm-3', sourceHostId: 'host-a', sourceFdId: 'fd-4' } });
    assert.deepEqual((await records.running()).map((m) => m.migrationId), ['m-3'], 'a barred import ends nothing: the source is still frozen');
    assert.equal(await records.find('no-such-migration'), undefined);
  });

  it('is rebuilt from the events by its schema migration, exactly as the trigger wrote it', async () => {
    const all = () => database.dataSource.query('SELECT * FROM migrations ORDER BY migration_id');
    const written = await all();
    assert.equal(written.length, 3);
    const schema = new MigrationsReadModel1732430000000();
    const runner = database.dataSource.createQueryRunner();
    try {
      await schema.down(runner);
      await schema.up(runner);
    } finally {
      await runner.release();
    }
    assert.deepEqual(await all(), written);
  });
});
