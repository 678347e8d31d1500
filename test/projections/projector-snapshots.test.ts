import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { eventOf } from '../../src/model/envelope';
import { replayHardware } from '../../src/hardware';
import { InProcessTransport } from '../../src/messaging/in-process-transport';
import { HardwareProjector } from '../../src/projections/hardware.projector';
import { projectedHardware } from '../../src/projections/projected-hardware';
import { PostgresReplay } from '../../src/replay/postgres-replay';
import { openDatabase } from '../../src/store/database';
import { EventStore } from '../../src/store/event-store';
import { HardwareProjectionStore } from '../../src/store/hardware-projection-store';
import { appendOf, fdCreated, hostRegistered, ioasidAllocated } from '../support/host-events';
import { createTestStorage, type TestStorage } from '../support/test-storage';

describe('hardware projector checkpoints and snapshots', () => {
  let storage: TestStorage;
  before(async () => {
    storage = await createTestStorage('postgres');
  });
  after(async () => {
    await storage?.dispose();
  });

  it('stores checkpoints per batch, snapshots seldom, and restarts from a snapshot behind its checkpoint', async () => {
    const db = await openDatabase(storage);
    const store = new EventStore(db.dataSource);
    const projections = new HardwareProjectionStore(db.dataSource);
    const replay = new PostgresReplay(db.dataSource, store);
    const first = { transport: new InProcessTransport(), projector: undefined as HardwareProjector | undefined };
    const second = { transport: new InProcessTransport(), projector: undefined as HardwareProjector | undefined };
    try {
      first.projector = new HardwareProjector(first.transport, store, projections);
      await first.projector.onApplicationBootstrap();
      await first.projector.catchUpNow();
      const envelopes = [
        ...(await store.append(appendOf('host-s', 0, [hostRegistered('host-s'), fdCreated('fd-s', 't-s')]))),
        ...(await store.append(appendOf('host-s', 2, [ioasidAllocated('fd-s', 1), ioasidAllocated('fd-s', 2), ioasidAllocated('fd-s', 3)]))),
        ...(await store.append(appendOf('host-s', 5, [ioasidAllocated('fd-s', 4)]))),
      ];
      const replayedTo = (version: number) => replayHardware(envelopes.slice(0, version).map(eventOf)).view();

      await first.transport.publish(envelopes.slice(0, 2));
      await first.projector.waitFor('host-s', 2);
      await first.transport.publish(envelopes.slice(2, 5));
      await first.projector.waitFor('host-s', 5);
      assert.equal((await projections.get('host-s'))?.version, 2, 'the first store of a host is a snapshot, the next ones checkpoints only');
      assert.equal(await projections.checkpoint('host-s'), 5);
      assert.deepEqual(await projectedHardware('host-s', projections, store, replay), replayedTo(5), 'now = the snapshot plus the events up to the checkpoint');

      // A second projector takes the host over: it starts from the snapshot (version 2) and fills 3..5 from the store.
      second.projector = new HardwareProjector(second.transport, store, projections);
      await second.projector.onApplicationBootstrap();
      await second.transport.publish([envelopes[5], envelopes[3]]);
      await second.projector.waitFor('host-s', 6);
      assert.deepEqual(await projectedHardware('host-s', projections, store, replay), replayedTo(6));

      await second.projector.onModuleDestroy();
      assert.deepEqual([(await projections.get('host-s'))?.version, (await projections.get('host-s'))?.view], [6, replayedTo(6)], 'stopping snapshots');
      await first.projector.onModuleDestroy();
      assert.equal((await projections.get('host-s'))?.version, 6, 'the older projector\'s final snapshot does not move the projection back');
      assert.equal(await projections.checkpoint('host-s'), 6);
    } finally {
      await first.projector?.onModuleDestroy();
      await second.projector?.onModuleDestroy();
      await first.transport.close();
      await second.transport.close();
      await db.close();
    }
  });

  it('snapshots, once idle, every host behind its checkpoint, a round of hosts at a time', async () => {
    const db = await openDatabase(storage);
    const store = new EventStore(db.dataSource);
    const projections = new HardwareProjectionStore(db.dataSource);
    const transport = new InProcessTransport();
    const projector = new HardwareProjector(transport, store, projections);
    const hostIds = Array.from({ length: 150 }, (_, i) => `idle-${i}`);
    try {
      await projector.onApplicationBootstrap();
      await projector.catchUpNow();
      for (const hostId of hostIds) {
        // The first store is a snapshot (version 2); the next batch only moves the checkpoint (3).
        await transport.publish(await store.append(appendOf(hostId, 0, [hostRegistered(hostId), fdCreated(`fd-${hostId}`, 't-idle')])));
        await projector.waitFor(hostId, 2);
        await transport.publish(await store.append(appendOf(hostId, 2, [ioasidAllocated(`fd-${hostId}`, 1)])));
      }
      await Promise.all(hostIds.map((hostId) => projector.waitFor(hostId, 3)));
      // Bounded wait: more than two rounds of idle snapshots.
      let behind = hostIds;
      for (let attempt = 0; attempt < 200 && behind.length > 0; attempt++) {
        await new Promise((resolve) => setTimeout(resolve, 100));
        const versions = await Promise.all(behind.map(async (hostId) => (await projections.get(hostId))?.version));
        behind = behind.filter((_, i) => versions[i] !== 3);
      }
      assert.deepEqual(behind, [], 'every host snapshotted at its checkpoint');
    } finally {
      await projector.onModuleDestroy();
      await transport.close();
      await db.close();
    }
  });
});
