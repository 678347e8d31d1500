import { status } from '@grpc/grpc-js';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { TEST_OPERATOR_TOKEN, unique, useTestApp } from '../support/app';
import { callError, errorCodeOf, IoasidClient } from './grpc-client';

const SOURCE_RID = '0000:3b:00.1';
const TARGET_RID = '0000:af:00.3';

describe('gRPC: MigrateFd and GetMigration', () => {
  const suite = useTestApp();
  let operator: IoasidClient;
  let tenant: IoasidClient;
  let stranger: IoasidClient;

  async function registerHost(rid: string): Promise<string> {
    const hostId = unique('host');
    await operator.call('RegisterHost', { hostId, pasidBits: 20, enqcmd: true, nestedPasidTable: false, devices: [{ rid, kind: 'vf', pasidBits: 20 }] });
    return hostId;
  }

  before(async () => {
    operator = new IoasidClient(suite.app.started.grpcUrl!, TEST_OPERATOR_TOKEN);
    tenant = operator.as((await operator.call('CreateTenant', { name: unique('tenant') })).token);
    stranger = operator.as((await operator.call('CreateTenant', { name: unique('tenant') })).token);
  });

  after(async () => {
    for (const client of [tenant, stranger, operator]) client?.close();
  });

  it('moves the guest-visible state to the target host and reports the migration', async () => {
    const source = await registerHost(SOURCE_RID);
    const target = await registerHost(TARGET_RID);
    const { fdId } = await tenant.call('CreateFd', { hostId: source, vmId: unique('vm') });
    await tenant.call('SetHwidMode', { fdId, mode: 'global' });
    await tenant.call('SetGlobalMin', { fdId, globalMin: 1024 });
    const { ioasid } = await tenant.call('AllocIoasid', { fdId });
    await tenant.call('AttachDevice', { fdId, ioasid, rid: SOURCE_RID, enqcmd: true });
    const { globalPasid } = await tenant.call('SetHwid', { fdId, ioasid, pasid: 5 });
    await tenant.call('SetKvmPasidMapping', { fdId, guestPasid: 5, hostPasid: globalPasid });

    const migration = await tenant.call('MigrateFd', { fdId, targetHostId: target, deviceMap: { [SOURCE_RID]: TARGET_RID } });
    assert.equal(migration.state, 'completed');
    assert.match(migration.targetFdId, /^[0-9a-f-]{36}$/);

    const moved = await tenant.call('GetFd', { fdId: migration.targetFdId });
    assert.equal(moved.hostId, target);
    assert.deepEqual([moved.hwidMode, moved.globalMin, moved.ioasids[0].pasid], ['global', 1024, 5]);
    assert.deepEqual(moved.ioasids[0].attachments.map((a: { rid: string }) => a.rid), [TARGET_RID]);
    assert.equal(moved.kvmMappings[0].guestPasid, 5);
    assert.equal(moved.kvmMappings[0].hostPasid, moved.ioasids[0].globalPasid, 'KVM re-pointed at the new global PASID');
    assert.equal(errorCodeOf(await callError(tenant.call('GetFd', { fdId }))).code, 'NOT_FOUND', 'the source fd is released');

    const record = await tenant.call('GetMigration', { migrationId: migration.migrationId });
    assert.deepEqual(
      { state: record.state, fdId: record.fdId, sourceHostId: record.sourceHostId, targetHostId: record.targetHostId, targetFdId: record.targetFdId },
      { state: 'completed', fdId, sourceHostId: source, targetHostId: target, targetFdId: migration.targetFdId },
    );
    const foreign = await callError(stranger.call('GetMigration', { migrationId: migration.migrationId }));
    assert.deepEqual([foreign.code, errorCodeOf(foreign).code], [status.NOT_FOUND, 'NOT_FOUND'], "another tenant's migration is not found");
  });

  it('answers the error that stopped a migration', async () => {
    const source = await registerHost(SOURCE_RID);
    const { fdId } = await tenant.call('CreateFd', { hostId: source, vmId: unique('vm') });
    const error = await callError(tenant.call('MigrateFd', { fdId, targetHostId: unique('nowhere'), deviceMap: {} }));
    assert.deepEqual([error.code, errorCodeOf(error).code], [status.NOT_FOUND, 'NOT_FOUND']);
    assert.equal((await tenant.call('GetFd', { fdId })).hostId, source, 'the fd stays where it was');
    const missing = await callError(tenant.call('GetMigration', { migrationId: randomUUID() }));
    assert.equal(errorCodeOf(missing).code, 'NOT_FOUND');
  });
});
