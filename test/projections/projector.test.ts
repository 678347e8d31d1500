import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { DataSource } from 'typeorm';
import { GetHardwareQuery, VerifyHostQuery } from '../../src/application/messages';
import { OPERATOR } from '../../src/application/principal';
import { eventOf, type EventEnvelope } from '../../src/model/envelope';
import { replayHardware, type HardwareView } from '../../src/hardware';
import { InProcessTransport } from '../../src/messaging/in-process-transport';
import { OutboxRelay } from '../../src/messaging/outbox-relay';
import { registry } from '../../src/observability/metrics';
import { HardwareProjector } from '../../src/projections/hardware.projector';
import { ReadinessService } from '../../src/projections/readiness.service';
import { openDatabase } from '../../src/store/database';
import { EventStore } from '../../src/store/event-store';
import { HardwareProjectionStore } from '../../src/store/hardware-projection-store';
import { createTenant, globalFd, registerHost, run, startApplicationContext, tenant, VF, type ApplicationContext } from '../support/application-context';
import { isCode } from '../support/domain-errors';
import { appendOf, fdCreated, hostRegistered, ioasidAllocated } from '../support/host-events';
import { createTestStorage, type StorageKind, type TestStorage } from '../support/test-storage';

async function storedEvents(ctx: ApplicationContext, hostId: string): Promise<EventEnvelope[]> {
  const events: EventEnvelope[] = [];
  for await (const batch of ctx.app.get(EventStore).stream(hostId)) events.push(...batch);
  return events;
}

/** A host with one global-mode fd whose ioasids have hwids: PASIDs allocated, entries programmed. */
async function busyHost(ctx: ApplicationContext, hostId: string, tenantId: string): Promise<void> {
  await registerHost(ctx, hostId);
  const fdId = await globalFd(ctx, hostId, tenantId, `fd-${hostId}`);
  const as = { principal: tenant(tenantId) };
  for (let pasid = 1; pasid <= 3; pasid++) {
    const { body } = await run(ctx, { type: 'AllocIoasid', fdId, actorTenantId: tenantId }, { ...as });
    const ioasid = (body as { ioasid: number }).ioasid;
    await run(ctx, { type: 'AttachDevice', fdId, ioasid, rid: VF.rid, enqcmd: false, actorTenantId: tenantId }, { ...as });
    await run(ctx, { type: 'SetHwid', fdId, ioasid, pasid, actorTenantId: tenantId }, as);
    await run(ctx, { type: 'BindPgtable', fdId, ioasid, gpa: `0x${(pasid * 0x10000).toString(16)}`, actorTenantId: tenantId }, as);
  }
}

for (const kind of ['postgres', 'pglite'] as StorageKind[]) {
  describe(`outbox relay and hardware projector on ${kind}`, () => {
    let storage: TestStorage;
    let ctx: ApplicationContext;
    let tenantId: string;

    before(async () => {
      storage = await createTestStorage(kind);
      ctx = await startApplicationContext(storage);
      tenantId = (await createTenant(ctx, 'projected')).tenantId;
    });
    after(async () => {
      await ctx?.close();
      await storage?.dispose();
    });

    it('projects committed events end to end: the projection equals a replay from the store', async () => {
      await busyHost(ctx, 'host-p1', tenantId);
      const events = await storedEvents(ctx, 'host-p1');
      await ctx.app.get(HardwareProjector).waitFor('host-p1', events.length);

      const replayed = replayHardware(events.map(eventOf));
      const now: HardwareView = await ctx.queries.execute(new GetHardwareQuery(OPERATOR, 'host-p1'));
      assert.equal(now.version, events.length);
      assert.equal(now.hash, replayed.hash());
      assert.deepEqual(now, replayed.view());
      assert.equal(now.allocator.used, 3, 'three global PASIDs');
      assert.equal(Object.keys(now.rids[VF.rid].pasids).length, 6, 'a vf in global mode is programmed at the local and the global PASID');

      const verified = await ctx.queries.execute(new VerifyHostQuery(OPERATOR, 'host-p1'));
      assert.deepEqual(verified, { ok: true, version: events.length, hash: replayed.hash() });
      assert.match(await registry.getSingleMetricAsString('ioasid_host_pasids_in_use'), /ioasid_host_pasids_in_use\{host="host-p1"\} 3/);

      await ctx.app.get(OutboxRelay).drain();
      assert.deepEqual(await ctx.app.get(ReadinessService).check(), { ready: true, role: 'all', database: true, migrations: 'current', outboxPending: 0, projectionLag: 0 });
    });

    it('answers the hardware as of a version by replaying the store, and NOT_FOUND beyond the head', async () => {
      const events = await storedEvents(ctx, 'host-p1');
      const asOf5: HardwareView = await ctx.queries.execute(new GetHardwareQuery(OPERATOR, 'host-p1', 5));
      assert.deepEqual(asOf5, replayHardware(events.slice(0, 5).map(eventOf)).view());
      assert.equal(asOf5.version, 5);
      await assert.rejects(ctx.queries.execute(new GetHardwareQuery(OPERATOR, 'host-p1', events.length + 1)), isCode('NOT_FOUND'));
      await assert.rejects(ctx.queries.execute(new GetHardwareQuery(OPERATOR, 'no-host')), isCode('NOT_FOUND'));
      await assert.rejects(ctx.queries.execute(new GetHardwareQuery(tenant(tenantId), 'host-p1')), isCode('FORBIDDEN'));
    });

    it('catches up from the store at start with events committed while no projector ran', async () => {
      await ctx.close();
      const apiOnly = await startApplicationContext(storage, { role: 'api' });
      try {
        await busyHost(apiOnly, 'host-p2', tenantId);
        await apiOnly.app.get(OutboxRelay).drain();
      } finally {
        await apiOnly.close();
      }
      ctx = await startApplicationContext(storage);
      const events = await storedEvents(ctx, 'host-p2');
      await ctx.app.get(HardwareProjector).waitFor('host-p2', events.length);
      const now: HardwareView = await ctx.queries.execute(new GetHardwareQuery(OPERATOR, 'host-p2'));
      assert.equal(now.hash, replayHardware(events.map(eventOf)).hash());
      // The host projected before the restart resumes from its stored snapshot.
      await run(ctx, { type: 'AllocIoasid', fdId: 'fd-host-p1', actorTenantId: tenantId }, { principal: tenant(tenantId) });
      const p1 = await storedEvents(ctx, 'host-p1');
      await ctx.app.get(HardwareProjector).waitFor('host-p1', p1.length);
      assert.equal((await ctx.queries.execute(new GetHardwareQuery(OPERATOR, 'host-p1'))).hash, replayHardware(p1.map(eventOf)).hash());
    });

    it('reports a tampered event as the first bad version', async () => {
      const dataSource = ctx.app.get(DataSource);
      await dataSource.query(`UPDATE events SET data = jsonb_set(data::jsonb, '{ioasid}', '7') WHERE host_id = 'host-p2' AND version = 5`);
      const verified = await ctx.queries.execute(new VerifyHostQuery(OPERATOR, 'host-p2'));
      assert.equal(verified.ok, false);
      assert.equal(verified.firstBadVersion, 5);
      assert.match(verified.reason, /hash/);
    });
  });
}

describe('hardware projector deliveries', () => {
  let storage: TestStorage;
  before(async () => {
    storage = await createTestStorage('postgres');
  });
  after(async () => {
    await storage?.dispose();
  });

  it('drops versions already applied and fills a gap from the store', async () => {
    const db = await openDatabase(storage);
    const transport = new InProcessTransport();
    const store = new EventStore(db.dataSource);
    const projector = new HardwareProjector(transport, store, new HardwareProjectionStore(db.dataSource));
    try {
      await projector.onApplicationBootstrap();
      await projector.catchUpNow();
      // Appended behind the projector's back: nothing relays them, so only what is published below reaches it.
      const envelopes = [
        ...(await store.append(appendOf('host-gap', 0, [hostRegistered('host-gap'), fdCreated('fd-g', 't-g')]))),
        ...(await store.append(appendOf('host-gap', 2, [ioasidAllocated('fd-g', 1), ioasidAllocated('fd-g', 2)]))),
        ...(await store.append(appendOf('host-gap', 4, [ioasidAllocated('fd-g', 3)]))),
      ];
      await transport.publish([envelopes[4]]);
      await projector.waitFor('host-gap', 5);
      await transport.publish(envelopes.slice(1, 5));
      await transport.publish([envelopes[0]]);
      await projector.catchUpNow();

      const row = await new HardwareProjectionStore(db.dataSource).get('host-gap');
      const replayed = replayHardware(envelopes.map(eventOf));
      assert.equal(row?.version, 5, 'the duplicates moved nothing');
      assert.equal(row?.hash, replayed.hash());
      assert.deepEqual(row?.view, replayed.view());
    } finally {
      await projector.onModuleDestroy();
      await transport.close();
      await db.close();
    }
  });
});
