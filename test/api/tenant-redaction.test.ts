import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createFd, createTenant, expectStatus, registerHost, TEST_OPERATOR_TOKEN, useTestApp, type ApiClient, type TenantHandle } from '../support/app';
import { IoasidClient } from '../grpc/grpc-client';
import { numbersIn } from '../support/json-numbers';
import { SseStream } from '../support/sse-client';

const VF = '0000:3b:00.1';
const SIOV = '0000:5e:00.0';

/** Issue 20: a tenant reads no host-chosen real siov PASID unless its fd exposed it; the operator reads the full events. */
describe('tenant copies of events (REST and gRPC)', () => {
  const suite = useTestApp();
  let op: ApiClient;
  let tenant: TenantHandle;
  let grpc: IoasidClient;
  let hostId: string;

  before(async () => {
    op = suite.app.operator;
    tenant = await createTenant(op);
    grpc = new IoasidClient(suite.app.started.grpcUrl!, TEST_OPERATOR_TOKEN).as(tenant.token);
    hostId = await registerHost(op, { devices: [{ rid: VF, kind: 'vf' }, { rid: SIOV, kind: 'siov' }] });
    // Another VM on the shared siov RID takes real PASIDs first, so the tenant's is not 1 by chance.
    const other = await createTenant(op);
    const busy = await createFd(other.client, hostId);
    expectStatus(await other.client.put(`/v1/fds/${busy}/hwid-mode`, { mode: 'local' }), 200);
    for (let i = 1; i <= 3; i++) {
      expectStatus(await other.client.post(`/v1/fds/${busy}/ioasids`), 201);
      expectStatus(await other.client.post(`/v1/fds/${busy}/ioasids/${i}/attachments`, { rid: SIOV }), 201);
      expectStatus(await other.client.put(`/v1/fds/${busy}/ioasids/${i}/hwid`, { pasid: 9 }), 200);
    }
  });

  after(() => grpc?.close());

  it('hides the real PASID in HwidSet, entries and releases; the operator sees it; an exposure shows it', async () => {
    const fdId = await createFd(tenant.client, hostId);
    const fd = `/v1/fds/${fdId}`;
    expectStatus(await tenant.client.put(`${fd}/hwid-mode`, { mode: 'local' }), 200);
    expectStatus(await tenant.client.post(`${fd}/ioasids`), 201);
    expectStatus(await tenant.client.post(`${fd}/ioasids/1/attachments`, { rid: VF }), 201);
    expectStatus(await tenant.client.post(`${fd}/ioasids/1/attachments`, { rid: SIOV }), 201);
    expectStatus(await tenant.client.put(`${fd}/ioasids/1/hwid`, { pasid: 7 }), 200);
    expectStatus(await tenant.client.put(`${fd}/ioasids/1/pgtable`, { gpa: '0x7f0000' }), 200);
    expectStatus(await tenant.client.delete(`${fd}/ioasids/1/pgtable`), 204);
    expectStatus(await tenant.client.put(`${fd}/ioasids/1/pgtable`, { gpa: '0x7f0000' }), 200);

    const full = (await op.get(`/v1/events?hostId=${hostId}&fdId=${fdId}`)).body.events;
    const realPasid = full.find((e: { type: string }) => e.type === 'HwidSet').data.realPasid as number;
    assert.equal(realPasid, 4, 'the operator reads the real PASID the host chose');
    const view = await tenant.client.get(fd);
    assert.equal(view.body.migratable, true);
    assert.ok(!numbersIn(view.body).includes(realPasid), 'the fd view holds no real PASID');

    const mine = (await tenant.client.get(`/v1/events?hostId=${hostId}&fdId=${fdId}`)).body.events;
    assert.deepEqual(mine.map((e: { type: string }) => e.type), full.map((e: { type: string }) => e.type));
    for (const e of mine) assert.ok(!numbersIn(e.data).includes(realPasid), `${e.type} shows the real PASID to the tenant`);
    assert.deepEqual(mine.find((e: { type: string }) => e.type === 'HwidSet').data, { fdId, ioasid: 1, pasid: 7 });
    const bound = mine.find((e: { type: string }) => e.type === 'PgtableBound').data.programmed;
    assert.deepEqual(bound.map((p: { rid: string; pasid?: number; origin: string }) => [p.rid, p.pasid, p.origin]), [[VF, 7, 'local'], [SIOV, undefined, 'real']]);
    const unbound = mine.find((e: { type: string }) => e.type === 'PgtableUnbound').data.cleared;
    assert.deepEqual(unbound, [{ rid: VF, pasid: 7 }, { rid: SIOV }]);
    // The envelope keeps the hash of the full event (the operator's copy verifies against it).
    assert.deepEqual(mine.map((e: { hash: string }) => e.hash), full.map((e: { hash: string }) => e.hash));

    const page = await grpc.call('ListEvents', { hostId, fdId });
    for (const e of page.events) assert.ok(!numbersIn(JSON.parse(e.dataJson)).includes(realPasid), `gRPC ${e.type} shows the real PASID`);

    // The watch (SSE) hands the tenant the same copies.
    const watch = await SseStream.open(suite.app.url, `/v1/events/watch?hostId=${hostId}&fdId=${fdId}&afterVersion=0`, tenant.token);
    try {
      const watched: Array<{ type: string; data: unknown }> = [];
      while (watched.length < full.length) watched.push(JSON.parse((await watch.nextEvent())!.data));
      assert.deepEqual(watched.map((e) => e.type), full.map((e: { type: string }) => e.type));
      assert.deepEqual(watched.map((e) => e.data), mine.map((e: { data: unknown }) => e.data));
    } finally {
      watch.close();
    }

    // Exposing it (GET .../hwid) is the one way to learn it, and pins the fd.
    const hwid = await tenant.client.get(`${fd}/ioasids/1/hwid`);
    assert.equal(hwid.body.hostPasid, realPasid);
    const exposed = (await tenant.client.get(`/v1/events?hostId=${hostId}&fdId=${fdId}&type=HwidExposed`)).body.events;
    assert.equal(exposed[0].data.hostPasid, realPasid);
    assert.equal((await tenant.client.get(fd)).body.migratable, false);

    expectStatus(await tenant.client.delete(fd), 204);
    const closed = (await tenant.client.get(`/v1/events?hostId=${hostId}&fdId=${fdId}&type=FdClosed`)).body.events[0].data;
    assert.equal(closed.released.pasids, undefined, 'released host PASIDs are not told apart: a tenant copy omits them');
    assert.deepEqual((await op.get(`/v1/events?hostId=${hostId}&fdId=${fdId}&type=FdClosed`)).body.events[0].data.released.pasids, [realPasid]);
  });
});
