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
});
