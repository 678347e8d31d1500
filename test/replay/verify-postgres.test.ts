import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { PostgresReplay } from '../../src/replay/postgres-replay';
import type { PostgresEventSource } from '../../src/replay/postgres-source';
import { verifyHost } from '../../src/replay/verify';
import { EventStore } from '../../src/store/event-store';
import { HardwareProjectionStore } from '../../src/store/hardware-projection-store';
import { openScratchDatabase, type ScratchDatabase } from '../support/postgres';
import { storeProjection } from './projection-row';
import { runScenario, ScenarioHost } from './scenario';
import { tamper } from './tamper-sql';

const HOSTS = ['intact', 'edited', 'deleted', 'swapped', 'tail-deleted', 'projection-off'] as const;

describe('verify against PostgreSQL: tamper evidence', () => {
  let db: ScratchDatabase;
  let source: PostgresEventSource;
  let projections: HardwareProjectionStore;
  let length = 0;

  before(async () => {
    db = await openScratchDatabase();
    const store = new EventStore(db.dataSource);
    const hosts = HOSTS.map((h) => new ScenarioHost(h, store));
    await Promise.all(hosts.map((h) => runScenario(h)));
    for (const h of hosts) await storeProjection(db.dataSource, h.hostId, h.state);
    length = hosts[0]!.state.version;
    source = new PostgresReplay(db.dataSource).source;
    projections = new HardwareProjectionStore(db.dataSource);

    await tamper.editData(db.dataSource, 'edited', 12);
    await tamper.deleteRow(db.dataSource, 'deleted', 7);
    await tamper.swapRows(db.dataSource, 'swapped', 20, 23);
    await tamper.deleteRow(db.dataSource, 'tail-deleted', length);
    await db.dataSource.query(`UPDATE hardware_projection SET hash = repeat('0', 64) WHERE host_id = 'projection-off'`);
  });
  after(async () => {
    await db?.close();
  });

  const verify = async (hostId: string) => {
    const projected = (await projections.get(hostId))!;
    return verifyHost(source, hostId, { live: [{ name: 'the hardware projection', version: projected.version, hash: projected.hash }] });
  };

  it('passes an untouched host', async () => {
    const report = await verify('intact');
    assert.deepEqual([report.ok, report.version, report.firstBadVersion], [true, length, undefined]);
    assert.equal(report.hash, report.compared[0]!.hash);
  });

  it('names the version whose data was edited', async () => {
    const report = await verify('edited');
    assert.deepEqual([report.ok, report.firstBadVersion, report.version], [false, 12, 11]);
    assert.match(report.reason!, /recorded hash does not match the event content/);
  });

  it('names the version whose row was deleted', async () => {
    const report = await verify('deleted');
    assert.deepEqual([report.ok, report.firstBadVersion], [false, 7]);
    assert.match(report.reason!, /version 7 is missing/);
  });

  it('names the first of two swapped rows', async () => {
    const report = await verify('swapped');
    assert.deepEqual([report.ok, report.firstBadVersion], [false, 20]);
  });

  it('names the last version when it was deleted (nothing after it to show a gap)', async () => {
    const report = await verify('tail-deleted');
    assert.deepEqual([report.ok, report.firstBadVersion], [false, length]);
    assert.match(report.reason!, /missing/);
  });

  it('names the live version when the live projection disagrees with an intact log', async () => {
    const report = await verify('projection-off');
    assert.deepEqual([report.ok, report.firstBadVersion], [false, length]);
    assert.match(report.reason!, /differs from the hardware projection/);
  });
});
