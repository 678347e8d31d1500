import { status } from '@grpc/grpc-js';
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { readUntil, TEST_OPERATOR_TOKEN, unique, useTestApp } from '../support/app';
import { callError, errorCodeOf, IoasidClient } from './grpc-client';

const VF = '0000:3b:00.1';
const ADDED = '0000:3b:00.2';
const TARGET_VF = '0000:af:00.1';

/** Issue 20 item 5 over gRPC: the same operations, answers and codes as REST. */
describe('gRPC: host lifecycle', () => {
  const suite = useTestApp();
  let operator: IoasidClient;
  let tenant: IoasidClient;

  before(async () => {
    operator = new IoasidClient(suite.app.started.grpcUrl!, TEST_OPERATOR_TOKEN);
    tenant = operator.as((await operator.call('CreateTenant', { name: unique('tenant') })).token);
  });

  after(async () => {
    for (const client of [tenant, operator]) client?.close();
  });

  const register = async (rid: string) => {
    const hostId = unique('host');
    await operator.call('RegisterHost', { hostId, pasidBits: 20, enqcmd: false, nestedPasidTable: false, devices: [{ rid, kind: 'vf', pasidBits: 20 }] });
    return hostId;
  };

  const refusal = async (call: Promise<unknown>, grpcStatus: status, code: string) => {
    const error = await callError(call);
    assert.equal(error.code, grpcStatus, error.message);
    const refused = errorCodeOf(error);
    assert.equal(refused.code, code);
    return refused.details as Record<string, unknown> | undefined;
  };

  const attachedFd = async (hostId: string, rid: string): Promise<string> => {
    const { fdId } = await tenant.call('CreateFd', { hostId, vmId: unique('vm') });
    await tenant.call('SetHwidMode', { fdId, mode: 'local' });
    const { ioasid } = await tenant.call('AllocIoasid', { fdId });
    await tenant.call('AttachDevice', { fdId, ioasid, rid });
    return fdId;
  };

  it('AddDevice answers the host; RemoveDevice of a held device is DEVICE_BUSY, of a free one Empty', async () => {
    const hostId = await register(VF);
    const host = await operator.call('AddDevice', { hostId, rid: ADDED, kind: 'siov', pasidBits: 16 });
    assert.deepEqual(host.devices, [{ rid: VF, kind: 'vf', pasidBits: 20 }, { rid: ADDED, kind: 'siov', pasidBits: 16 }]);
    assert.equal(host.cordoned, false);
    await refusal(operator.call('AddDevice', { hostId, rid: ADDED, kind: 'vf', pasidBits: 16 }), status.ALREADY_EXISTS, 'ALREADY_EXISTS');
    await refusal(tenant.call('AddDevice', { hostId, rid: '0000:3b:00.3', kind: 'vf', pasidBits: 16 }), status.PERMISSION_DENIED, 'FORBIDDEN');
    const fdId = await attachedFd(hostId, ADDED);
    assert.deepEqual(await refusal(operator.call('RemoveDevice', { hostId, rid: ADDED }), status.FAILED_PRECONDITION, 'DEVICE_BUSY'), { rid: ADDED, fdIds: [fdId] });
    await tenant.call('CloseFd', { fdId });
    assert.deepEqual(await operator.call('RemoveDevice', { hostId, rid: ADDED }), {});
    assert.deepEqual((await operator.call('GetHost', { hostId })).devices, [{ rid: VF, kind: 'vf', pasidBits: 20 }]);
    await refusal(operator.call('RemoveDevice', { hostId, rid: ADDED }), status.NOT_FOUND, 'NOT_FOUND');
  });

  it('CordonHost refuses CreateFd and MigrateFd in with HOST_CORDONED and lets an fd migrate out; UncordonHost opens it again', async () => {
    const hostId = await register(VF);
    const other = await register(TARGET_VF);
    const staying = await attachedFd(hostId, VF);
    assert.equal((await operator.call('CordonHost', { hostId })).cordoned, true);
    const { version } = await operator.call('CordonHost', { hostId });
    assert.equal((await operator.call('GetHost', { hostId })).version, version, 'cordoning twice appends nothing');
    assert.deepEqual(await refusal(tenant.call('CreateFd', { hostId, vmId: unique('vm') }), status.FAILED_PRECONDITION, 'HOST_CORDONED'), { hostId });
    const incoming = await attachedFd(other, TARGET_VF);
    await refusal(tenant.call('MigrateFd', { fdId: incoming, targetHostId: hostId, deviceMap: { [TARGET_VF]: VF } }), status.FAILED_PRECONDITION, 'HOST_CORDONED');
    await tenant.call('CloseFd', { fdId: incoming });
    const out = await tenant.call('MigrateFd', { fdId: staying, targetHostId: other, deviceMap: { [VF]: TARGET_VF } });
    assert.equal(out.state, 'completed');
    // proto3: false is absent on the wire.
    assert.equal((await operator.call('UncordonHost', { hostId })).cordoned ?? false, false);
    await tenant.call('CreateFd', { hostId, vmId: unique('vm') });
  });

  it('DecommissionHost: HOST_BUSY with open fds, then every command HOST_DECOMMISSIONED; GetHost, GetHardware, VerifyHost, ListEvents still answer', async () => {
    const hostId = await register(VF);
    const fdId = await attachedFd(hostId, VF);
    assert.deepEqual(await refusal(operator.call('DecommissionHost', { hostId }), status.FAILED_PRECONDITION, 'HOST_BUSY'), { hostId, fdIds: [fdId] });
    await tenant.call('CloseFd', { fdId });
    assert.deepEqual(await operator.call('DecommissionHost', { hostId }), {});
    const gone = (call: Promise<unknown>) => refusal(call, status.FAILED_PRECONDITION, 'HOST_DECOMMISSIONED');
    await gone(operator.call('RegisterHost', { hostId, pasidBits: 20, enqcmd: false, nestedPasidTable: false, devices: [] }));
    await gone(operator.call('AddDevice', { hostId, rid: ADDED, kind: 'vf', pasidBits: 8 }));
    await gone(operator.call('RemoveDevice', { hostId, rid: VF }));
    await gone(operator.call('CordonHost', { hostId }));
    await gone(operator.call('UncordonHost', { hostId }));
    await gone(operator.call('DecommissionHost', { hostId }));
    await gone(tenant.call('CreateFd', { hostId, vmId: unique('vm') }));

    const host = await operator.call('GetHost', { hostId });
    assert.equal(host.decommissioned, true);
    const { events } = await operator.call('ListEvents', { hostId, pageSize: 1000 });
    assert.equal(events.at(-1).type, 'HostDecommissioned');
    assert.deepEqual(JSON.parse(events.at(-1).dataJson), { hostId });
    assert.equal((await operator.call('GetHardware', { hostId, version: host.version })).version, host.version);
    const verify = await readUntil(() => operator.call('VerifyHost', { hostId }), (v) => v.ok === true);
    assert.equal(verify.ok, true);
    assert.equal(verify.version, host.version);
  });
});
