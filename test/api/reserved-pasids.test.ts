import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createFd, createTenant, expectError, expectStatus, readUntil, TEST_OPERATOR_TOKEN, unique, useTestApp, type ApiClient, type TenantHandle } from '../support/app';
import { callError, errorCodeOf, IoasidClient } from '../grpc/grpc-client';

const VF = '0000:3b:00.1';

/** Issue 20: RegisterHost takes the host kernel's PASIDs; they are never handed out; REST and gRPC alike. */
describe('reserved host PASIDs (REST and gRPC)', () => {
  const suite = useTestApp();
  let op: ApiClient;
  let tenant: TenantHandle;
  let grpc: IoasidClient;

  before(async () => {
    op = suite.app.operator;
    tenant = await createTenant(op);
    grpc = new IoasidClient(suite.app.started.grpcUrl!, TEST_OPERATOR_TOKEN);
  });

  after(() => grpc?.close());

  const host = (hostId: string, reservedPasids?: unknown) => ({
    hostId,
    pasidBits: 8,
    enqcmd: true,
    nestedPasidTable: false,
    devices: [{ rid: VF, kind: 'vf', pasidBits: 8 }],
    ...(reservedPasids === undefined ? {} : { reservedPasids }),
  });

  it('REST: registers, shows and skips them; refuses bad ranges with 422 INVALID_RANGE', async () => {
    expectError(await op.post('/v1/hosts', host(unique('h'), [{ from: 10, count: 5 }, { from: 12, count: 1 }])), 422, 'INVALID_RANGE');
    expectError(await op.post('/v1/hosts', host(unique('h'), [{ from: 250, count: 10 }])), 422, 'INVALID_RANGE');
    expectError(await op.post('/v1/hosts', host(unique('h'), [{ from: 0, count: 1 }])), 400, 'VALIDATION_FAILED');

    const hostId = unique('h');
    const registered = await op.post('/v1/hosts', host(hostId, [{ from: 100, count: 28 }]));
    expectStatus(registered, 201);
    assert.deepEqual(registered.body.reservedPasids, [{ from: 100, count: 28 }]);
    const fdId = await createFd(tenant.client, hostId);
    const fd = `/v1/fds/${fdId}`;
    expectStatus(await tenant.client.put(`${fd}/hwid-mode`, { mode: 'global' }), 200);
    expectStatus(await tenant.client.put(`${fd}/global-min`, { globalMin: 100 }), 200);
    expectStatus(await tenant.client.post(`${fd}/ioasids`), 201);
    expectStatus(await tenant.client.post(`${fd}/ioasids/1/attachments`, { rid: VF }), 201);
    const hwid = await tenant.client.put(`${fd}/ioasids/1/hwid`, { pasid: 5 });
    expectStatus(hwid, 200);
    assert.equal(hwid.body.globalPasid, 128, 'the first global PASID after the reserved 100-127');
    // The hardware view is the projection: it catches up with the write.
    const hardware = await readUntil(() => op.get(`/v1/hosts/${hostId}/hardware`), (res) => res.body.allocator?.used === 1);
    assert.deepEqual(hardware.body.allocator, { used: 1, free: 255 - 28 - 1, reserved: [{ from: 100, count: 28 }] });
  });

  it('gRPC: RegisterHost takes reservedPasids; GetHost and GetHardware show them; a bad range is OUT_OF_RANGE', async () => {
    const hostId = unique('h');
    const created = await grpc.call('RegisterHost', host(hostId, [{ from: 1, count: 3 }]));
    assert.deepEqual(created.reservedPasids, [{ from: 1, count: 3 }]);
    assert.deepEqual((await grpc.call('GetHost', { hostId })).reservedPasids, [{ from: 1, count: 3 }]);
    const hardware = await readUntil(() => op.get(`/v1/hosts/${hostId}/hardware`), (res) => res.body.hostId === hostId);
    assert.deepEqual(hardware.body.allocator.reserved, [{ from: 1, count: 3 }]);
    assert.deepEqual((await grpc.call('GetHardware', { hostId })).allocator.reserved, [{ from: 1, count: 3 }]);
    const refused = errorCodeOf(await callError(grpc.call('RegisterHost', host(unique('h'), [{ from: 1, count: 3 }, { from: 2, count: 1 }]))));
    assert.equal(refused.code, 'INVALID_RANGE');
    // proto3: an empty repeated field is absent on the wire.
    assert.deepEqual((await grpc.call('RegisterHost', host(unique('h')))).reservedPasids ?? [], []);
  });
});
