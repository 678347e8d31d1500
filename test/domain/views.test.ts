import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { HostCommand } from '../../src/model';
import { fdView } from '../../src/domain';
import { TestHost, SIOV, VF1, VF2 } from '../support/domain-host';
import { deserializeHostState, serializeHostState } from '../../src/composition/host-state';

describe('command results (the REST bodies of API.md)', () => {
  it('answers every command with its documented body', () => {
    const h = new TestHost().register({ enqcmd: true, nestedPasidTable: true, devices: [VF1, VF2, SIOV] });
    const body = (command: HostCommand) => h.run(command).result;
    const fd = (command: Record<string, unknown>) => body({ fdId: 'fd-1', ...command } as HostCommand);
    const fdBody = fd({ type: 'CreateFd', tenantId: 't1', vmId: 'vm-1' }) as { fdId: string; version: number };
    assert.equal(fdBody.fdId, 'fd-1');
    assert.equal(fdBody.version, h.state.version);
    assert.equal((fd({ type: 'SetHwidMode', mode: 'global' }) as { hwidMode: string }).hwidMode, 'global');
    assert.equal((fd({ type: 'SetGlobalMin', globalMin: 32 }) as { globalMin: number }).globalMin, 32);
    assert.deepEqual(fd({ type: 'AllocIoasid' }), { ioasid: 1 });
    assert.deepEqual(fd({ type: 'AttachDevice', ioasid: 1, rid: SIOV.rid, enqcmd: true }), { vdevId: 'vdev-1', rid: SIOV.rid, ioasid: 1, enqcmd: true, mdevId: 'mdev-1' });
    assert.deepEqual(fd({ type: 'AttachDevice', ioasid: 1, rid: VF1.rid, enqcmd: false, vdevId: 'nic0' }), { vdevId: 'nic0', rid: VF1.rid, ioasid: 1, enqcmd: false });
    assert.deepEqual(fd({ type: 'SetHwid', ioasid: 1, pasid: 3 }), { ioasid: 1, pasid: 3, globalPasid: 32 });
    assert.deepEqual(fd({ type: 'GetHwid', ioasid: 1 }), { ioasid: 1, pasid: 3, hostPasid: 32 });
    assert.deepEqual(fd({ type: 'BindPgtable', ioasid: 1, gpa: '0x7f0000' }), {
      ioasid: 1, pasid: 3, globalPasid: 32, pgtableGpa: '0x7f0000',
      attachments: [{ vdevId: 'vdev-1', rid: SIOV.rid, enqcmd: true, mdevId: 'mdev-1' }, { vdevId: 'nic0', rid: VF1.rid, enqcmd: false }],
    });
    assert.deepEqual(fd({ type: 'SetKvmPasidMapping', guestPasid: 3, hostPasid: 32 }), { guestPasid: 3, hostPasid: 32 });
    const view = fdView(h.state, 'fd-1')!;
    assert.deepEqual(view.kvmMappings, [{ guestPasid: 3, hostPasid: 32 }]);
    const migrating = fd({ type: 'StartMigration', migrationId: 'm', targetHostId: 'host-b' }) as { migratingTo: string };
    assert.equal(migrating.migratingTo, 'host-b');
    assert.equal((fd({ type: 'AbortMigration', migrationId: 'm', reason: 'no' }) as { migratingTo?: string }).migratingTo, undefined);
    for (const command of [
      { type: 'UnsetKvmPasidMapping', guestPasid: 3 },
      { type: 'UnbindPgtable', ioasid: 1 },
      { type: 'DetachDevice', ioasid: 1, rid: VF1.rid },
      { type: 'DetachDevice', ioasid: 1, rid: SIOV.rid },
      { type: 'FreeIoasid', ioasid: 1 },
      { type: 'CloseFd' },
    ]) {
      assert.equal(fd(command), null, command.type);
    }
    fd({ type: 'CreateFd', tenantId: 't1', vmId: 'vm-1' });
    fd({ type: 'SetHwidMode', mode: 'local' });
    fd({ type: 'AllocIoasid' });
    fd({ type: 'AttachDevice', ioasid: 1, rid: VF2.rid, enqcmd: false });
    assert.deepEqual(fd({ type: 'SetPasidTable', ioasid: 1, gpa: '0x9000' }), { ioasid: 1, pasidTableGpa: '0x9000', attachments: [{ vdevId: 'vdev-1', rid: VF2.rid, enqcmd: false }] });
    fd({ type: 'StartMigration', migrationId: 'm2', targetHostId: 'host-b' });
    // The last step of a migration answers for the whole of it (API.md POST /v1/fds/{fdId}/migrations).
    assert.deepEqual(fd({ type: 'CompleteMigration', migrationId: 'm2', targetFdId: 'fd-x' }), { migrationId: 'm2', state: 'completed', targetFdId: 'fd-x' });
  });

  it('serializes a host state to JSON and back exactly', () => {
    const h = new TestHost().register({ enqcmd: true, devices: [VF1, VF2, SIOV] });
    h.run({ type: 'CreateFd', fdId: 'fd-1', tenantId: 't1', vmId: 'vm-1' });
    const fd = h.fd('fd-1');
    fd.run({ type: 'SetHwidMode', mode: 'global' });
    fd.run({ type: 'SetGlobalMin', globalMin: 10 });
    for (let i = 1; i <= 3; i++) fd.run({ type: 'AllocIoasid' });
    fd.run({ type: 'FreeIoasid', ioasid: 2 });
    fd.run({ type: 'AttachDevice', ioasid: 1, rid: VF1.rid, enqcmd: true });
    fd.run({ type: 'AttachDevice', ioasid: 1, rid: SIOV.rid, enqcmd: false });
    fd.run({ type: 'SetHwid', ioasid: 1, pasid: 4 });
    fd.run({ type: 'BindPgtable', ioasid: 1, gpa: '0x1000' });
    fd.run({ type: 'SetKvmPasidMapping', guestPasid: 4, hostPasid: 10 });
    const json = JSON.stringify(serializeHostState(h.state));
    const restored = deserializeHostState(JSON.parse(json));
    assert.equal(JSON.stringify(serializeHostState(restored)), json);
    assert.equal(restored.hw.hash(), h.state.hw.hash());
    assert.deepEqual(fdView(restored, 'fd-1'), fdView(h.state, 'fd-1'));
    assert.deepEqual(restored.tenants, h.state.tenants);
    // The same next decisions: lowest free ioasid 2, next mdev, next PASID.
    const next = new TestHost();
    next.state = restored;
    assert.deepEqual(next.fd('fd-1').run({ type: 'AllocIoasid' }).result, { ioasid: 2 });
    assert.equal(next.fd('fd-1').one({ type: 'AttachDevice', ioasid: 3, rid: SIOV.rid, enqcmd: false }, 'DeviceAttached').data.mdevId, 'mdev-2');
    assert.throws(() => deserializeHostState({ format: 9 }), /format 3/);
  });
});
