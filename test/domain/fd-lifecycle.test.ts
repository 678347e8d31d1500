import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { DomainError } from '../../src/model';
import { fdIdsOf, fdView, hostView, hwidView } from '../../src/domain';
import { TestHost, SIOV, VF1, VF2 } from '../support/domain-host';

describe('hosts and fds', () => {
  it('registers a host once and validates its shape', () => {
    const h = new TestHost();
    h.refuse({ type: 'CreateFd', fdId: 'fd-1', tenantId: 't1', vmId: 'vm-1' }, 'NOT_FOUND', /not registered/);
    h.refuse({ type: 'AllocIoasid', fdId: 'fd-1' }, 'NOT_FOUND');
    const base = { type: 'RegisterHost' as const, hostId: 'h', enqcmd: false, nestedPasidTable: false };
    h.refuse({ ...base, pasidBits: 0, devices: [] }, 'INVALID_RANGE');
    h.refuse({ ...base, pasidBits: 21, devices: [] }, 'INVALID_RANGE');
    h.refuse({ ...base, pasidBits: 8, devices: [{ ...VF1, pasidBits: 9 }] }, 'INVALID_RANGE');
    h.refuse({ ...base, pasidBits: 8, devices: [{ ...VF1, pasidBits: 0 }] }, 'INVALID_RANGE');
    h.refuse({ ...base, pasidBits: 8, devices: [{ ...VF1, kind: 'pf' as never, pasidBits: 8 }] }, 'INVALID_RANGE');
    h.refuse({ ...base, pasidBits: 8, devices: [{ ...VF1, pasidBits: 8 }, { ...VF1, pasidBits: 4 }] }, 'ALREADY_EXISTS');
    const { result } = h.run({ ...base, pasidBits: 8, devices: [{ ...VF1, pasidBits: 8 }] });
    assert.deepEqual(result, { hostId: 'h', pasidBits: 8, enqcmd: false, nestedPasidTable: false, devices: [{ ...VF1, pasidBits: 8 }], reservedPasids: [], cordoned: false, decommissioned: false, version: 1 });
    assert.deepEqual(hostView(h.state), result);
    h.refuse({ ...base, pasidBits: 8, devices: [] }, 'ALREADY_EXISTS');
  });

  it('opens one fd per VM, counts fds against the tenant quota and hides other tenants\' fds', () => {
    const h = new TestHost().register({ devices: [VF1, VF2] });
    h.quotas.set('t1', { maxFds: 1, maxHostPasids: 10 });
    const { result } = h.run({ type: 'CreateFd', fdId: 'fd-1', tenantId: 't1', vmId: 'vm-1', actorTenantId: 't1' });
    assert.deepEqual(result, {
      fdId: 'fd-1', tenantId: 't1', hostId: 'host-a', vmId: 'vm-1', hwidMode: null, globalMin: null,
      migratable: true, ioasids: [], kvmMappings: [], version: 2,
    });
    h.refuse({ type: 'CreateFd', fdId: 'fd-1', tenantId: 't1', vmId: 'vm-9' }, 'ALREADY_EXISTS');
    h.refuse({ type: 'CreateFd', fdId: 'fd-2', tenantId: 't1', vmId: 'vm-1' }, 'ALREADY_EXISTS', /vm-1/);
    h.refuse({ type: 'CreateFd', fdId: 'fd-2', tenantId: 't1', vmId: 'vm-2' }, 'QUOTA_EXCEEDED');
    h.refuse({ type: 'CreateFd', fdId: 'fd-2', tenantId: 't2', vmId: 'vm-2', actorTenantId: 't1' }, 'FORBIDDEN');
    h.run({ type: 'CreateFd', fdId: 'fd-2', tenantId: 't2', vmId: 'vm-2' });
    assert.deepEqual(fdIdsOf(h.state), ['fd-1', 'fd-2']);

    // Another tenant's fd answers exactly like a missing one.
    h.refuse({ type: 'SetHwidMode', fdId: 'fd-1', mode: 'local', actorTenantId: 't2' }, 'NOT_FOUND');
    h.refuse({ type: 'GetHwid', fdId: 'fd-1', ioasid: 1, actorTenantId: 't2' }, 'NOT_FOUND');
    h.refuse({ type: 'CloseFd', fdId: 'fd-1', actorTenantId: 't2' }, 'NOT_FOUND');
    h.refuse({ type: 'CloseFd', fdId: 'fd-404' }, 'NOT_FOUND');

    h.one({ type: 'CloseFd', fdId: 'fd-1', actorTenantId: 't1' }, 'FdClosed');
    h.refuse({ type: 'AllocIoasid', fdId: 'fd-1' }, 'NOT_FOUND');
    assert.equal(fdView(h.state, 'fd-1'), undefined);
    // Closing frees the VM slot and the quota.
    h.one({ type: 'CreateFd', fdId: 'fd-3', tenantId: 't1', vmId: 'vm-1' }, 'FdCreated');
    assert.equal(h.state.fds.get('fd-3')!.domainId, 3, 'domain ids are never reused');
  });

  it('sets the hwid mode once, before any attach', () => {
    const h = new TestHost().register({ devices: [VF1] });
    h.run({ type: 'CreateFd', fdId: 'fd-1', tenantId: 't1', vmId: 'vm-1' });
    const fd = h.fd('fd-1');
    fd.run({ type: 'AllocIoasid' });
    fd.refuse({ type: 'AttachDevice', ioasid: 1, rid: VF1.rid, enqcmd: false }, 'HWID_MODE_NOT_SET');
    fd.refuse({ type: 'SetHwidMode', mode: 'sideways' as never }, 'INVALID_RANGE');
    assert.equal((fd.run({ type: 'SetHwidMode', mode: 'local' }).result as { hwidMode: string }).hwidMode, 'local');
    fd.refuse({ type: 'SetHwidMode', mode: 'local' }, 'HWID_MODE_ALREADY_SET');
  });

  it('allocates the lowest free ioasid and refuses what needs a missing one', () => {
    const h = new TestHost().register({ devices: [VF1, VF2, SIOV] });
    h.run({ type: 'CreateFd', fdId: 'fd-1', tenantId: 't1', vmId: 'vm-1' });
    const fd = h.fd('fd-1');
    fd.run({ type: 'SetHwidMode', mode: 'local' });
    for (let i = 1; i <= 4; i++) assert.deepEqual(fd.run({ type: 'AllocIoasid' }).result, { ioasid: i });
    fd.run({ type: 'FreeIoasid', ioasid: 3 });
    fd.run({ type: 'FreeIoasid', ioasid: 2 });
    assert.deepEqual(fd.run({ type: 'AllocIoasid' }).result, { ioasid: 2 });
    assert.deepEqual(fd.run({ type: 'AllocIoasid' }).result, { ioasid: 3 });
    assert.deepEqual(fd.run({ type: 'AllocIoasid' }).result, { ioasid: 5 });
    fd.refuse({ type: 'FreeIoasid', ioasid: 9 }, 'NOT_FOUND');
    fd.refuse({ type: 'AttachDevice', ioasid: 9, rid: VF1.rid, enqcmd: false }, 'NOT_FOUND');
    fd.refuse({ type: 'AttachDevice', ioasid: 1, rid: '0000:ff:00.0', enqcmd: false }, 'NOT_FOUND');
    fd.refuse({ type: 'SetHwid', ioasid: 9, pasid: 1 }, 'NOT_FOUND');
    fd.refuse({ type: 'SetHwid', ioasid: 1, pasid: 1 }, 'NOT_ATTACHED');
    fd.refuse({ type: 'GetHwid', ioasid: 1 }, 'HWID_NOT_SET');
    fd.refuse({ type: 'BindPgtable', ioasid: 1, gpa: '0x1000' }, 'HWID_NOT_SET');
    fd.run({ type: 'AttachDevice', ioasid: 1, rid: VF1.rid, enqcmd: false });
    fd.refuse({ type: 'AttachDevice', ioasid: 1, rid: VF1.rid, enqcmd: false }, 'ALREADY_ATTACHED');
    fd.run({ type: 'SetHwid', ioasid: 1, pasid: 1 });
    fd.refuse({ type: 'BindPgtable', ioasid: 1, gpa: '0x1234' }, 'INVALID_RANGE');
    fd.refuse({ type: 'BindPgtable', ioasid: 1, gpa: '7f000' }, 'INVALID_RANGE');
    fd.refuse({ type: 'BindPgtable', ioasid: 9, gpa: '0x1000' }, 'NOT_FOUND');
    fd.run({ type: 'DetachDevice', ioasid: 1, rid: VF1.rid });
    fd.refuse({ type: 'BindPgtable', ioasid: 1, gpa: '0x1000' }, 'NOT_ATTACHED');
  });

  it('closes an fd releasing everything it holds', () => {
    const h = new TestHost().register({ enqcmd: true, devices: [VF1, VF2, SIOV] });
    h.run({ type: 'CreateFd', fdId: 'fd-1', tenantId: 't1', vmId: 'vm-1' });
    const fd = h.fd('fd-1');
    fd.run({ type: 'SetHwidMode', mode: 'global' });
    fd.run({ type: 'SetGlobalMin', globalMin: 16 });
    fd.run({ type: 'AllocIoasid' });
    fd.run({ type: 'AllocIoasid' });
    fd.run({ type: 'AttachDevice', ioasid: 1, rid: VF1.rid, enqcmd: true });
    fd.run({ type: 'AttachDevice', ioasid: 1, rid: SIOV.rid, enqcmd: false });
    fd.run({ type: 'AttachDevice', ioasid: 2, rid: VF2.rid, enqcmd: false });
    fd.run({ type: 'SetHwid', ioasid: 1, pasid: 1 });
    fd.run({ type: 'SetHwid', ioasid: 2, pasid: 2 });
    fd.run({ type: 'BindPgtable', ioasid: 1, gpa: '0x1000' });
    fd.run({ type: 'BindPgtable', ioasid: 2, gpa: '0x2000' });
    fd.run({ type: 'SetKvmPasidMapping', guestPasid: 1, hostPasid: 16 });
    const closed = h.one({ type: 'CloseFd', fdId: 'fd-1' }, 'FdClosed');
    assert.deepEqual(closed.data.released, {
      pasids: [16, 17],
      entries: [
        { rid: VF1.rid, pasid: 16 },
        { rid: SIOV.rid, pasid: 16 },
        { rid: VF2.rid, pasid: 2 },
        { rid: VF2.rid, pasid: 17 },
      ],
      contexts: [],
      kvmGuestPasids: [1],
      mdevs: ['mdev-1'],
    });
    const hw = h.hw();
    assert.deepEqual(hw.vms, {});
    assert.deepEqual(hw.allocator.used, 0);
    for (const rid of [VF1.rid, VF2.rid, SIOV.rid]) assert.deepEqual(hw.rids[rid], { context: { table: 'host' }, pasids: {} });
  });

  it('reads hwids without changing anything', () => {
    const h = new TestHost().register({ devices: [VF1] });
    h.run({ type: 'CreateFd', fdId: 'fd-1', tenantId: 't1', vmId: 'vm-1' });
    h.fd('fd-1').run({ type: 'SetHwidMode', mode: 'local' });
    h.fd('fd-1').run({ type: 'AllocIoasid' });
    h.fd('fd-1').run({ type: 'AttachDevice', ioasid: 1, rid: VF1.rid, enqcmd: false });
    assert.throws(() => hwidView(h.state, 'fd-1', 1), (e) => e instanceof DomainError && e.code === 'HWID_NOT_SET');
    assert.throws(() => hwidView(h.state, 'fd-1', 2), (e) => e instanceof DomainError && e.code === 'NOT_FOUND');
    h.fd('fd-1').run({ type: 'SetHwid', ioasid: 1, pasid: 42 });
    assert.deepEqual(hwidView(h.state, 'fd-1', 1), { ioasid: 1, pasid: 42, hostPasid: 42 });
    assert.deepEqual(fdView(h.state, 'fd-1')!.ioasids, [{ ioasid: 1, pasid: 42, attachments: [{ vdevId: 'vdev-1', rid: VF1.rid, enqcmd: false }] }]);
  });
});
