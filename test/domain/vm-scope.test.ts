import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { HostCommand } from '../../src/model';
import { exportFd, fdView } from '../../src/domain';
import { TestHost, VF1, VF2 } from '../support/domain-host';
import { deserializeHostState, serializeHostState } from '../../src/composition/host-state';

const B_VF1 = { rid: '0000:af:00.1', kind: 'vf' as const, pasidBits: 20 };
const B_VF2 = { rid: '0000:af:00.2', kind: 'vf' as const, pasidBits: 20 };

/** An fd in global mode with `rid` attached for ENQCMD, hwid 5 and guest PASID 5 mapped for the CPU. */
function enqcmdFd(h: TestHost, fdId: string, tenantId: string, vmId: string, rid: string): number {
  h.run({ type: 'CreateFd', fdId, tenantId, vmId, actorTenantId: tenantId });
  const fd = h.fd(fdId);
  fd.run({ type: 'SetHwidMode', mode: 'global', actorTenantId: tenantId });
  fd.run({ type: 'SetGlobalMin', globalMin: 1024, actorTenantId: tenantId });
  fd.run({ type: 'AllocIoasid', actorTenantId: tenantId });
  fd.run({ type: 'AttachDevice', ioasid: 1, rid, enqcmd: true, actorTenantId: tenantId });
  const globalPasid = fd.one({ type: 'SetHwid', ioasid: 1, pasid: 5, actorTenantId: tenantId }, 'HwidSet').data.globalPasid!;
  fd.one({ type: 'SetKvmPasidMapping', guestPasid: 5, hostPasid: globalPasid, actorTenantId: tenantId }, 'KvmPasidMapped');
  return globalPasid;
}

describe('a VM is (tenant, vmId): the decider scopes VM ids per tenant', () => {
  it("opens B's fd for a vmId A uses, refuses a second fd for either VM, and keeps their KVM tables apart", () => {
    const h = new TestHost().register({ enqcmd: true, devices: [VF1, VF2] });
    const aGlobal = enqcmdFd(h, 'fd-a', 'ta', 'vm-1', VF1.rid);
    const bGlobal = enqcmdFd(h, 'fd-b', 'tb', 'vm-1', VF2.rid);
    assert.notEqual(aGlobal, bGlobal);

    h.refuse({ type: 'CreateFd', fdId: 'fd-a2', tenantId: 'ta', vmId: 'vm-1', actorTenantId: 'ta' }, 'ALREADY_EXISTS', /vm-1/);
    h.refuse({ type: 'CreateFd', fdId: 'fd-b2', tenantId: 'tb', vmId: 'vm-1', actorTenantId: 'tb' }, 'ALREADY_EXISTS', /vm-1/);
    // The refusal names only what the caller sent: nothing of the other tenant's fd.
    const refused = h.refuse({ type: 'CreateFd', fdId: 'fd-b2', tenantId: 'tb', vmId: 'vm-1', actorTenantId: 'tb' }, 'ALREADY_EXISTS');
    assert.ok(!JSON.stringify({ message: refused.message, details: refused.details }).includes('fd-a'));
    h.refuse({ type: 'CreateFd', fdId: 'fd-x', tenantId: 'tb', vmId: 'ta/vm-1' }, 'INVALID_RANGE', /without '\/'/);

    assert.deepEqual(fdView(h.state, 'fd-a')!.kvmMappings, [{ guestPasid: 5, hostPasid: aGlobal }]);
    assert.deepEqual(fdView(h.state, 'fd-b')!.kvmMappings, [{ guestPasid: 5, hostPasid: bGlobal }]);
    assert.deepEqual(h.hw().vms, { 'ta/vm-1': { 5: aGlobal }, 'tb/vm-1': { 5: bGlobal } });

    // B's mapping is B's: re-setting it is a no-op, A's global PASID is not B's, unmapping B leaves A's.
    assert.deepEqual(h.run({ type: 'SetKvmPasidMapping', fdId: 'fd-b', guestPasid: 5, hostPasid: bGlobal, actorTenantId: 'tb' }).events, []);
    h.refuse({ type: 'SetKvmPasidMapping', fdId: 'fd-b', guestPasid: 5, hostPasid: aGlobal, actorTenantId: 'tb' }, 'PASID_NOT_OWNED');
    h.one({ type: 'UnsetKvmPasidMapping', fdId: 'fd-b', guestPasid: 5, actorTenantId: 'tb' }, 'KvmPasidUnmapped');
    h.refuse({ type: 'UnsetKvmPasidMapping', fdId: 'fd-b', guestPasid: 5, actorTenantId: 'tb' }, 'NOT_FOUND');
    assert.deepEqual(h.hw().vms, { 'ta/vm-1': { 5: aGlobal } });

    // Closing A releases A's mapping only; then B may be alone with the vmId: the bare key again.
    const closed = h.one({ type: 'CloseFd', fdId: 'fd-a', actorTenantId: 'ta' }, 'FdClosed');
    assert.deepEqual(closed.data.released.kvmGuestPasids, [5]);
    h.one({ type: 'SetKvmPasidMapping', fdId: 'fd-b', guestPasid: 5, hostPasid: bGlobal, actorTenantId: 'tb' }, 'KvmPasidMapped');
    assert.deepEqual(h.hw().vms, { 'vm-1': { 5: bGlobal } });
    h.one({ type: 'CreateFd', fdId: 'fd-a3', tenantId: 'ta', vmId: 'vm-1' }, 'FdCreated');
  });

  it('round-trips a host where two tenants share a vmId through a snapshot, deciding the same after', () => {
    const h = new TestHost().register({ enqcmd: true, devices: [VF1, VF2] });
    enqcmdFd(h, 'fd-a', 'ta', 'vm-1', VF1.rid);
    enqcmdFd(h, 'fd-b', 'tb', 'vm-1', VF2.rid);
    const restored = deserializeHostState(JSON.parse(JSON.stringify(serializeHostState(h.state))));
    assert.equal(restored.hw.hash(), h.state.hw.hash());
    assert.deepEqual(restored.hw.view(), h.state.hw.view());
    const again = new TestHost();
    again.state = restored;
    again.refuse({ type: 'CreateFd', fdId: 'fd-a2', tenantId: 'ta', vmId: 'vm-1' }, 'ALREADY_EXISTS');
    again.one({ type: 'CreateFd', fdId: 'fd-c', tenantId: 'tc', vmId: 'vm-1' }, 'FdCreated');
    assert.deepEqual(Object.keys(again.hw().vms).sort(), ['ta/vm-1', 'tb/vm-1']);
  });

  it("imports onto a target where another tenant's VM has the vmId, never where the tenant's own VM has it", () => {
    const source = new TestHost().register({ hostId: 'host-a', enqcmd: true, devices: [VF1, VF2] });
    enqcmdFd(source, 'fd-a', 'ta', 'vm-1', VF1.rid);
    const image = exportFd(source.state, 'fd-a');
    const target = new TestHost().register({ hostId: 'host-b', enqcmd: true, devices: [B_VF1, B_VF2] });
    const bGlobal = enqcmdFd(target, 'fd-b', 'tb', 'vm-1', B_VF2.rid);
    const importFd = (fdId: string): HostCommand => ({
      type: 'ImportFd', fdId, tenantId: 'ta', migrationId: `mig-${fdId}`, sourceHostId: 'host-a', sourceFdId: 'fd-a',
      image, deviceMap: { [VF1.rid]: B_VF1.rid }, actorTenantId: 'ta',
    });
    const imported = target.one(importFd('fd-a-on-b'), 'FdImported');
    assert.equal(imported.data.vmId, 'vm-1');
    const moved = imported.data.kvmMappings[0]!.hostPasid;
    assert.notEqual(moved, bGlobal, "B's global PASID stays B's");
    assert.deepEqual(target.hw().vms, { 'ta/vm-1': { 5: moved }, 'tb/vm-1': { 5: bGlobal } });
    assert.deepEqual(fdView(target.state, 'fd-b')!.kvmMappings, [{ guestPasid: 5, hostPasid: bGlobal }]);
    // A second import of A's VM: A's own VM is there now.
    target.refuse(importFd('fd-a-again'), 'ALREADY_EXISTS', /vm-1/);
  });
});
