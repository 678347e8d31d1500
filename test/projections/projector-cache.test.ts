import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { hostCacheBytes } from '../../src/config';
import { eventOf, type EventEnvelope } from '../../src/model/envelope';
import { replayHardware } from '../../src/hardware';
import { InProcessTransport } from '../../src/messaging/in-process-transport';
import type { EventTransport } from '../../src/messaging/transport';
import { HardwareProjector } from '../../src/projections/hardware.projector';
import { openDatabase } from '../../src/store/database';
import { EventStore } from '../../src/store/event-store';
import { HardwareProjectionStore } from '../../src/store/hardware-projection-store';
import { appendOf, fdCreated, hostRegistered, ioasidAllocated } from '../support/host-events';
import { createTestStorage, type TestStorage } from '../support/test-storage';

const HOSTS = 400;

/** The in-process transport, plus the rebalance notice a Kafka transport gives. */
class RebalancingTransport extends InProcessTransport implements EventTransport {
  private listener?: (owned: (hostId: string) => boolean) => void;
  onPartitionsRevoked(listener: (owned: (hostId: string) => boolean) => void): void {
    this.listener = listener;
  }
  revoke(owned: (hostId: string) => boolean): void {
    this.listener!(owned);
  }
}

describe('projector host cache', () => {
  let storage: TestStorage;
  before(async () => {
    storage = await createTestStorage('postgres');
  });
  after(async () => {
    await storage?.dispose();
  });

  it('holds hosts within HOST_CACHE_MB, stores every host it evicts, reloads it on its next events, and drops revoked hosts', async () => {
    const db = await openDatabase(storage);
    const store = new EventStore(db.dataSource);
    const projections = new HardwareProjectionStore(db.dataSource);
    const transport = new RebalancingTransport();
    const config = { hostCacheMb: 1, role: 'projector' as const };
    const projector = new HardwareProjector(transport, store, projections, config);
    try {
      await projector.onApplicationBootstrap();
      await projector.catchUpNow();
      const hostId = (i: number) => `cache-host-${i}`;
      const streams = new Map<string, EventEnvelope[]>();
      for (let i = 0; i < HOSTS; i++) {
        const envelopes = await store.append(appendOf(hostId(i), 0, [hostRegistered(hostId(i)), fdCreated(`cache-fd-${i}`, 't-c'), ioasidAllocated(`cache-fd-${i}`, 1)]));
        streams.set(hostId(i), envelopes);
      }
      // Deliveries of more hosts than the cache holds: hosts applied and not yet stored are evicted within them.
      const all = [...streams.values()];
      await transport.publish(all.slice(0, 250).flat());
      await transport.publish(all.slice(250).flat());
      for (let i = 0; i < HOSTS; i++) await projector.waitFor(hostId(i), 3);
      const usage = projector.cacheUsage;
      assert.ok(usage.bytes <= hostCacheBytes(config, 'projected hardware'), `${usage.bytes} bytes held`);
      assert.ok(usage.hosts < HOSTS, `evicted some of ${HOSTS} hosts (holds ${usage.hosts})`);
      for (let i = 0; i < HOSTS; i++) assert.equal(await projections.checkpoint(hostId(i)), 3, `host ${i} stored`);

      // The first host was evicted long ago: its next event finds it reloaded from its snapshot.
      const more = await store.append(appendOf(hostId(0), 3, [ioasidAllocated('cache-fd-0', 2)]));
      await transport.publish(more);
      await projector.waitFor(hostId(0), 4);
      await projector.onModuleDestroy();
      const row = await projections.get(hostId(0));
      assert.equal(row?.version, 4);
      assert.deepEqual(row?.view, replayHardware([...streams.get(hostId(0))!, ...more].map(eventOf)).view());
    } finally {
      await projector.onModuleDestroy();
      await db.close();
    }
  });

  it('drops the hosts of revoked partitions', async () => {
    const db = await openDatabase(storage);
    const store = new EventStore(db.dataSource);
    const transport = new RebalancingTransport();
    const projector = new HardwareProjector(transport, store, new HardwareProjectionStore(db.dataSource));
    try {
      await projector.onApplicationBootstrap();
      await projector.catchUpNow();
      const ids = ['kept-1', 'gone-1', 'kept-2', 'gone-2'];
      for (const id of ids) {
        await transport.publish(await store.append(appendOf(id, 0, [hostRegistered(id)])));
        await projector.waitFor(id, 1);
      }
      const before = projector.cacheUsage.hosts;
      transport.revoke((id) => !id.startsWith('gone-'));
      // The drop runs as the projector's next task: a delivery queued behind it sees it done.
      await transport.publish(await store.append(appendOf('kept-3', 0, [hostRegistered('kept-3')])));
      await projector.waitFor('kept-3', 1);
      assert.equal(projector.cacheUsage.hosts, before - 2 + 1);
    } finally {
      await projector.onModuleDestroy();
      await db.close();
    }
  });

  it('takes up the hosts of a delivery it does not hold from their stored snapshots, whether at their checkpoint or behind it', async () => {
    const db = await openDatabase(storage);
    const store = new EventStore(db.dataSource);
    const projections = new HardwareProjectionStore(db.dataSource);
    const hostId = (i: number) => `take-up-${i}`;
    const streams = new Map<string, EventEnvelope[]>();
    const earlierTransport = new InProcessTransport();
    const earlier = new HardwareProjector(earlierTransport, store, projections);
    try {
      await earlier.onApplicationBootstrap();
      await earlier.catchUpNow();
      for (let i = 0; i < 6; i++) streams.set(hostId(i), await store.append(appendOf(hostId(i), 0, [hostRegistered(hostId(i)), fdCreated(`take-up-fd-${i}`, 't-t')])));
      await earlierTransport.publish([...streams.values()].flat());
      for (let i = 0; i < 6; i++) await earlier.waitFor(hostId(i), 2);
    } finally {
      // Stopping stores every host's snapshot at version 2.
      await earlier.onModuleDestroy();
    }
    // The odd hosts' checkpoints move past their snapshots, as a projector's that applied an event without snapshotting.
    for (let i = 1; i < 6; i += 2) {
      streams.get(hostId(i))!.push(...(await store.append(appendOf(hostId(i), 2, [ioasidAllocated(`take-up-fd-${i}`, 1)]))));
      await projections.save([{ hostId: hostId(i), version: 3 }]);
    }
    // A projector that holds none of them gets one delivery with the next event of each.
    const transport = new InProcessTransport();
    const projector = new HardwareProjector(transport, store, projections);
    try {
      await projector.onApplicationBootstrap();
      await projector.catchUpNow();
      const next: EventEnvelope[] = [];
      for (let i = 0; i < 6; i++) {
        next.push(...(await store.append(appendOf(hostId(i), streams.get(hostId(i))!.length, [ioasidAllocated(`take-up-fd-${i}`, 2)]))));
      }
      await transport.publish(next);
      await projector.onModuleDestroy();
      for (const [id, envelopes] of streams) {
        const all = [...envelopes, ...next.filter((e) => e.hostId === id)];
        const row = await projections.get(id);
        assert.equal(row?.version, all.length, id);
        assert.deepEqual(row?.view, replayHardware(all.map(eventOf)).view(), id);
      }
    } finally {
      await projector.onModuleDestroy();
      await db.close();
    }
  });
});
