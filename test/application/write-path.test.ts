import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createHash } from 'node:crypto';
import { DataSource } from 'typeorm';
import { HostStates } from '../../src/application/host-states';
import { GetFdQuery, GetHostQuery, ListEventsQuery, ListFdsQuery, ListHostsQuery } from '../../src/application/messages';
import { OPERATOR } from '../../src/application/principal';
import type { FdView } from '../../src/model';
import { evolveAll } from '../../src/domain';
import { eventOf, type EventEnvelope } from '../../src/model/envelope';
import { registry } from '../../src/observability/metrics';
import { canonicalJson } from '../../src/model/canonical-json';
import { EventStore } from '../../src/store/event-store';
import { TenantRepository } from '../../src/store/tenant-repository';
import {
  createTenant,
  globalFd,
  metaOf,
  registerHost,
  run,
  startApplicationContext,
  tenant,
  VF,
  type ApplicationContext,
} from '../support/application-context';
import { isCode } from '../support/domain-errors';
import { createTestStorage, type StorageKind, type TestStorage } from '../support/test-storage';
import { initialHostState, serializeHostState } from '../../src/composition/host-state';

async function allEvents(ctx: ApplicationContext, hostId: string): Promise<EventEnvelope[]> {
  const events: EventEnvelope[] = [];
  for await (const batch of ctx.app.get(EventStore).stream(hostId)) events.push(...batch);
  return events;
}

/** 50 ioasids of one global-mode fd, each with the VF attached and no hwid yet. */
async function fiftyAttachedIoasids(ctx: ApplicationContext, hostId: string, tenantId: string, fdId: string): Promise<number[]> {
  await globalFd(ctx, hostId, tenantId, fdId, 1024);
  const as = { principal: tenant(tenantId) };
  const ioasids: number[] = [];
  for (let i = 0; i < 50; i++) {
    const { body } = await run(ctx, { type: 'AllocIoasid', fdId, actorTenantId: tenantId }, { ...as });
    const ioasid = (body as { ioasid: number }).ioasid;
    await run(ctx, { type: 'AttachDevice', fdId, ioasid, rid: VF.rid, enqcmd: false, actorTenantId: tenantId }, { ...as });
    ioasids.push(ioasid);
  }
  return ioasids;
}

/** SetHwid as a client would send it: a VERSION_CONFLICT (another replica kept winning) is retried with the same key. */
async function setHwid(ctx: ApplicationContext, fdId: string, tenantId: string, ioasid: number, pasid: number): Promise<number> {
  const meta = metaOf(tenant(tenantId), { idempotency: { key: `hwid-${fdId}-${ioasid}`, fingerprint: `hwid-${ioasid}-${pasid}` } });
  for (;;) {
    try {
      const body = await ctx.hostCommands.run({ type: 'SetHwid', fdId, ioasid, pasid, actorTenantId: tenantId }, meta);
      return (body as { globalPasid: number }).globalPasid;
    } catch (e) {
      if (!isCode('VERSION_CONFLICT')(e)) throw e;
    }
  }
}

function assertDistinctGlobalPasids(globalPasids: number[], count: number): void {
  assert.equal(globalPasids.length, count);
  assert.equal(new Set(globalPasids).size, count, `${count} distinct global PASIDs: ${globalPasids.join(',')}`);
  for (const p of globalPasids) assert.ok(p >= 1024 && p < 2 ** 20, `global PASID ${p} lies in [globalMin, 2^20)`);
}

for (const kind of ['postgres', 'pglite'] as StorageKind[]) {
  describe(`write path on ${kind}`, () => {
    let storage: TestStorage;
    let ctx: ApplicationContext;
    let tenantA: string;
    let tenantB: string;

    before(async () => {
      storage = await createTestStorage(kind);
      ctx = await startApplicationContext(storage, { snapshotEvery: 5 });
      tenantA = (await createTenant(ctx, 'tenant-a')).tenantId;
      tenantB = (await createTenant(ctx, 'tenant-b')).tenantId;
    });
    after(async () => {
      await ctx?.close();
      await storage?.dispose();
    });

    it('creates tenants with a token that is stored only as its sha256', async () => {
      const body = (await ctx.tenants.create('tenant-c', { maxFds: 3 }, metaOf(OPERATOR))) as { tenantId: string; name: string; quotas: unknown; token: string };
      assert.match(body.token, /^iot_[A-Za-z0-9_-]{43}$/);
      assert.deepEqual(body.quotas, { maxFds: 3, maxHostPasids: 4096 });
      const hash = createHash('sha256').update(body.token).digest('hex');
      assert.deepEqual(await ctx.app.get(TenantRepository).findByTokenHash(hash), { tenantId: body.tenantId, name: 'tenant-c', quotas: body.quotas });
      const [row] = await storageQuery(ctx, 'SELECT token_hash FROM tenants WHERE tenant_id = $1', [body.tenantId]);
      assert.equal(row.token_hash, hash);
      await assert.rejects(ctx.tenants.create('tenant-c', undefined, metaOf(OPERATOR)), isCode('ALREADY_EXISTS'));
    });

    it('answers an idempotent repeat of a tenant creation with the same tenant and no token', async () => {
      const meta = metaOf(OPERATOR, { idempotency: { key: 'tenant-d', fingerprint: 'create tenant-d' } });
      const first = await ctx.tenants.create('tenant-d', undefined, meta);
      const again = await ctx.tenants.create('tenant-d', undefined, { ...meta, commandId: 'other' });
      const { token: _token, ...withoutToken } = first as { token: string };
      assert.deepEqual(again, withoutToken);
    });

    it('registers hosts and lists them from the directory', async () => {
      await registerHost(ctx, 'host-1');
      const host = await ctx.queries.execute(new GetHostQuery(tenant(tenantA), 'host-1'));
      assert.deepEqual(host, { hostId: 'host-1', pasidBits: 20, enqcmd: true, nestedPasidTable: true, devices: [VF, { rid: '0000:5e:00.0', kind: 'siov', pasidBits: 20 }], reservedPasids: [], cordoned: false, decommissioned: false, version: 1 });
      assert.deepEqual((await ctx.queries.execute(new ListHostsQuery(OPERATOR))).hosts.map((h: { hostId: string }) => h.hostId), ['host-1']);
      await assert.rejects(ctx.queries.execute(new GetHostQuery(OPERATOR, 'nope')), isCode('NOT_FOUND'));
      await assert.rejects(registerHost(ctx, 'host-1'), isCode('ALREADY_EXISTS'));
    });

    it('routes fd commands through the fd directory and hides other tenants\' fds', async () => {
      await assert.rejects(run(ctx, { type: 'CreateFd', fdId: 'fd-x', tenantId: tenantA, vmId: 'vm-x' }, {}), isCode('VALIDATION_FAILED'));
      await assert.rejects(run(ctx, { type: 'CreateFd', fdId: 'fd-x', tenantId: 'no-such-tenant', vmId: 'vm-x' }, { hostId: 'host-1' }), isCode('NOT_FOUND'));
      const created = await run(ctx, { type: 'CreateFd', fdId: 'fd-a1', tenantId: tenantA, vmId: 'vm-a1', actorTenantId: tenantA }, { principal: tenant(tenantA), hostId: 'host-1' });
      assert.equal((created.body as FdView).fdId, 'fd-a1');

      const fd: FdView = await ctx.queries.execute(new GetFdQuery(tenant(tenantA), 'fd-a1'));
      assert.equal(fd.tenantId, tenantA);
      assert.deepEqual(await ctx.queries.execute(new GetFdQuery(OPERATOR, 'fd-a1')), fd);
      await assert.rejects(ctx.queries.execute(new GetFdQuery(tenant(tenantB), 'fd-a1')), isCode('NOT_FOUND'));
      await assert.rejects(run(ctx, { type: 'AllocIoasid', fdId: 'fd-a1', actorTenantId: tenantB }, { principal: tenant(tenantB) }), isCode('NOT_FOUND'));
      await assert.rejects(run(ctx, { type: 'AllocIoasid', fdId: 'no-such-fd' }), isCode('NOT_FOUND'));

      assert.deepEqual((await ctx.queries.execute(new ListFdsQuery(tenant(tenantA)))).fds.map((f: FdView) => f.fdId), ['fd-a1']);
      assert.deepEqual(await ctx.queries.execute(new ListFdsQuery(tenant(tenantB))), { fds: [] });
      const eventsOfB = await ctx.queries.execute(new ListEventsQuery(tenant(tenantB), { hostId: 'host-1' }));
      assert.deepEqual(eventsOfB.events, []);
      const eventsOfA = await ctx.queries.execute(new ListEventsQuery(tenant(tenantA), { hostId: 'host-1' }));
      assert.deepEqual(eventsOfA.events.map((e: EventEnvelope) => [e.type, e.actor]), [['FdCreated', `tenant:${tenantA}`]]);

      await run(ctx, { type: 'CloseFd', fdId: 'fd-a1', actorTenantId: tenantA }, { principal: tenant(tenantA) });
      await assert.rejects(ctx.queries.execute(new GetFdQuery(tenant(tenantA), 'fd-a1')), isCode('NOT_FOUND'));
      assert.deepEqual(await ctx.queries.execute(new ListFdsQuery(OPERATOR, 'host-1')), { fds: [] });
    });

    it('answers a repeated idempotent command from its record and appends nothing', async () => {
      const fdId = await globalFd(ctx, 'host-1', tenantA, 'fd-idem');
      const as = tenant(tenantA);
      const alloc = (key: string, fingerprint: string, principal = as) =>
        ctx.hostCommands.run(
          { type: 'AllocIoasid', fdId, actorTenantId: principal.kind === 'tenant' ? principal.tenantId : undefined },
          metaOf(principal, { idempotency: { key, fingerprint } }),
        );
      const first = await alloc('k1', 'alloc fd-idem');
      const head = (await allEvents(ctx, 'host-1')).length;
      assert.deepEqual(await alloc('k1', 'alloc fd-idem'), first);
      assert.equal((await allEvents(ctx, 'host-1')).length, head, 'the repeat appended no event');
      await assert.rejects(alloc('k1', 'something else'), isCode('IDEMPOTENCY_KEY_REUSED'));
      // Keys are per tenant: tenant B's k1 is another key (and B cannot see the fd).
      await assert.rejects(alloc('k1', 'alloc fd-idem', tenant(tenantB)), isCode('NOT_FOUND'));
      const second = await alloc('k2', 'alloc fd-idem');
      assert.notDeepEqual(second, first);
    });

    it('allocates 50 distinct global PASIDs for 50 concurrent SetHwid on one host', async () => {
      const ioasids = await fiftyAttachedIoasids(ctx, 'host-1', tenantB, 'fd-fifty');
      const globalPasids = await Promise.all(ioasids.map((ioasid, i) => setHwid(ctx, 'fd-fifty', tenantB, ioasid, i + 1)));
      assertDistinctGlobalPasids(globalPasids, 50);
      const fd: FdView = await ctx.queries.execute(new GetFdQuery(tenant(tenantB), 'fd-fifty'));
      assert.deepEqual(fd.ioasids.map((io) => io.globalPasid).sort(), [...globalPasids].sort());
      const metrics = await registry.getSingleMetricAsString('ioasid_command_duration_seconds');
      assert.match(metrics, /ioasid_command_duration_seconds_count\{command="SetHwid",outcome="ok"\} [1-9]/);
    });

    it('restarts from the latest snapshot plus the events after it, to the same state as a full replay', async () => {
      await ctx.app.get(HostStates).snapshotsWritten();
      const snapshotRows = await storageQuery(ctx, `SELECT version FROM snapshots WHERE host_id = 'host-1'`);
      assert.equal(snapshotRows.length, 1, 'only the latest snapshot is kept');
      const events = await allEvents(ctx, 'host-1');
      assert.ok(snapshotRows[0].version > 0 && snapshotRows[0].version % 5 === 0 && snapshotRows[0].version <= events.length);

      const fdBefore = await ctx.queries.execute(new GetFdQuery(OPERATOR, 'fd-fifty'));
      await ctx.close();
      ctx = await startApplicationContext(storage, { snapshotEvery: 5 });
      const states = ctx.app.get(HostStates);
      const loaded = await states.exclusive('host-1', () => states.current('host-1'));
      const replayed = evolveAll(initialHostState(), events.map(eventOf));
      assert.equal(canonicalJson(serializeHostState(loaded)), canonicalJson(serializeHostState(replayed)));
      assert.equal(loaded.hw.hash(), replayed.hw.hash());
      assert.deepEqual(await ctx.queries.execute(new GetFdQuery(OPERATOR, 'fd-fifty')), fdBefore);

      // The reloaded state goes on deciding from where the stream is.
      const next = await run(ctx, { type: 'AllocIoasid', fdId: 'fd-fifty', actorTenantId: tenantB }, { principal: tenant(tenantB) });
      assert.equal((next.body as { ioasid: number }).ioasid, 51);
    });

    if (kind === 'postgres') {
      it('keeps PASIDs unique when two replicas write the same host concurrently', async () => {
        const replica = await startApplicationContext(storage, { snapshotEvery: 5 });
        try {
          await registerHost(ctx, 'host-2');
          const ioasids = await fiftyAttachedIoasids(ctx, 'host-2', tenantA, 'fd-two-replicas');
          const globalPasids = await Promise.all(ioasids.map((ioasid, i) => setHwid(i % 2 ? replica : ctx, 'fd-two-replicas', tenantA, ioasid, i + 1)));
          assertDistinctGlobalPasids(globalPasids, 50);
          const events = await allEvents(ctx, 'host-2');
          assert.equal(events.filter((e) => e.type === 'HwidSet').length, 50, 'one HwidSet per command: no retry appended twice');
          const replayed = evolveAll(initialHostState(), events.map(eventOf));
          assert.deepEqual(
            [...replayed.fds.get('fd-two-replicas')!.ioasids.values()].map((io) => io.globalPasid).sort(),
            [...globalPasids].sort(),
          );
        } finally {
          await replica.close();
        }
      });
    }
  });
}

function storageQuery(ctx: ApplicationContext, sql: string, params: unknown[] = []): Promise<any[]> {
  return ctx.app.get(DataSource).query(sql, params);
}
