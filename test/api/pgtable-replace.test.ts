import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createFd, createTenant, expectStatus, readUntil, registerHost, TEST_OPERATOR_TOKEN, useTestApp, type ApiClient, type TenantHandle } from '../support/app';
import { IoasidClient } from '../grpc/grpc-client';

const VF = '0000:3b:00.1';

/** Issue 20: PUT .../pgtable on a bound ioasid replaces the page table in one event; the same gpa is a no-op. */
describe('page-table replace (REST and gRPC)', () => {
  const suite = useTestApp({ validateResponses: true });
  let op: ApiClient;
  let tenant: TenantHandle;
  let grpc: IoasidClient;
  let hostId: string;

  before(async () => {
    op = suite.app.operator;
    tenant = await createTenant(op);
    grpc = new IoasidClient(suite.app.started.grpcUrl!, TEST_OPERATOR_TOKEN).as(tenant.token);
    hostId = await registerHost(op, { devices: [{ rid: VF, kind: 'vf' }, { rid: '0000:3b:00.2', kind: 'vf' }] });
  });

  after(() => grpc?.close());

  async function boundFd(rid: string): Promise<string> {
    const fdId = await createFd(tenant.client, hostId);
    const fd = `/v1/fds/${fdId}`;
    expectStatus(await tenant.client.put(`${fd}/hwid-mode`, { mode: 'local' }), 200);
    expectStatus(await tenant.client.post(`${fd}/ioasids`), 201);
    expectStatus(await tenant.client.post(`${fd}/ioasids/1/attachments`, { rid }), 201);
    expectStatus(await tenant.client.put(`${fd}/ioasids/1/hwid`, { pasid: 9 }), 200);
    expectStatus(await tenant.client.put(`${fd}/ioasids/1/pgtable`, { gpa: '0x1000' }), 200);
    return fdId;
  }

  const eventTypes = async (fdId: string) => (await op.get(`/v1/events?hostId=${hostId}&fdId=${fdId}`)).body.events.map((e: { type: string }) => e.type);

  it('REST: another gpa replaces in one event (the hardware follows), the same gpa answers 200 with no event', async () => {
    const fdId = await boundFd(VF);
    const path = `/v1/fds/${fdId}/ioasids/1/pgtable`;
    const replaced = await tenant.client.put(path, { gpa: '0x2000' });
    expectStatus(replaced, 200);
    assert.equal(replaced.body.pgtableGpa, '0x2000');
    const types = await eventTypes(fdId);
    assert.deepEqual(types.slice(-2), ['PgtableBound', 'PgtableReplaced']);
    const hardware = await readUntil(() => op.get(`/v1/hosts/${hostId}/hardware`), (res) => res.body.rids?.[VF]?.pasids?.['9']?.firstStageGpa === '0x2000');
    assert.equal(hardware.body.rids[VF].pasids['9'].fdId, fdId);
    expectStatus(await tenant.client.put(path, { gpa: '0x2000' }), 200);
    assert.deepEqual(await eventTypes(fdId), types, 'no event for the same gpa');
  });

  it('gRPC: BindPgtable replaces alike', async () => {
    const fdId = await boundFd('0000:3b:00.2');
    const answer = await grpc.call('BindPgtable', { fdId, ioasid: 1, gpa: '0x3000' });
    assert.equal(answer.pgtableGpa, '0x3000');
    assert.equal((await eventTypes(fdId)).at(-1), 'PgtableReplaced');
  });
});
