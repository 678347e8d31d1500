import { status } from '@grpc/grpc-js';
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { TEST_OPERATOR_TOKEN, unique, useTestApp } from '../support/app';
import { callError, errorCodeOf, IoasidClient } from './grpc-client';

const SOURCE = ['0000:3b:00.1', '0000:3b:00.2'];
const TARGET = ['0000:af:00.1', '0000:af:00.2', '0000:af:00.7'];

/** Issue 20 over gRPC: vdevIds given and assigned, kept across MigrateFd; a bad device map is OUT_OF_RANGE / DEVICE_MAP_INVALID. */
describe('gRPC: guest-visible device ids and the device map', () => {
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

  it('keeps the vdevIds across a migration and names each offending map entry', async () => {
    const source = unique('host');
    await operator.call('RegisterHost', { hostId: source, pasidBits: 20, enqcmd: false, nestedPasidTable: false, devices: SOURCE.map((rid) => ({ rid, kind: 'vf', pasidBits: 20 })) });
    const target = unique('host');
    const targetDevices = TARGET.map((rid, i) => ({ rid, kind: 'vf', pasidBits: i === 2 ? 4 : 20 }));
    await operator.call('RegisterHost', { hostId: target, pasidBits: 20, enqcmd: false, nestedPasidTable: false, devices: targetDevices });
    const { fdId } = await tenant.call('CreateFd', { hostId: source, vmId: unique('vm') });
    await tenant.call('SetHwidMode', { fdId, mode: 'local' });
    const { ioasid } = await tenant.call('AllocIoasid', { fdId });
    const nic = await tenant.call('AttachDevice', { fdId, ioasid, rid: SOURCE[0], vdevId: 'nic0' });
    assert.equal(nic.vdevId, 'nic0');
    assert.equal((await tenant.call('AttachDevice', { fdId, ioasid, rid: SOURCE[1] })).vdevId, 'vdev-1');
    await tenant.call('SetHwid', { fdId, ioasid, pasid: 100 });

    const refused = await callError(tenant.call('MigrateFd', { fdId, targetHostId: target, deviceMap: { [SOURCE[0]]: TARGET[2], [SOURCE[1]]: TARGET[2] } }));
    assert.equal(refused.code, status.OUT_OF_RANGE);
    const { code, details } = errorCodeOf(refused);
    assert.equal(code, 'DEVICE_MAP_INVALID');
    assert.deepEqual((details as { entries: unknown[] }).entries, [
      { source: SOURCE[0], target: TARGET[2], problem: 'TARGET_SHARED' },
      { source: SOURCE[1], target: TARGET[2], problem: 'TARGET_SHARED' },
      { source: SOURCE[0], target: TARGET[2], problem: 'TOO_NARROW' },
      { source: SOURCE[1], target: TARGET[2], problem: 'TOO_NARROW' },
    ]);

    const migration = await tenant.call('MigrateFd', { fdId, targetHostId: target, deviceMap: { [SOURCE[0]]: TARGET[1], [SOURCE[1]]: TARGET[0] } });
    const moved = await tenant.call('GetFd', { fdId: migration.targetFdId });
    assert.deepEqual(
      moved.ioasids[0].attachments.map((a: { vdevId: string; rid: string }) => [a.vdevId, a.rid]),
      [['nic0', TARGET[1]], ['vdev-1', TARGET[0]]],
    );
  });
});
