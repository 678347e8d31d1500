import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { TestHost, SIOV, VF1, VF2 } from '../support/domain-host';

const NARROW_VF = { rid: '0000:3b:00.7', kind: 'vf' as const, pasidBits: 10 };

function globalFd(options: { enqcmd?: boolean; pasidBits?: number } = {}): TestHost {
  const pasidBits = options.pasidBits ?? 20;
  const devices = [VF1, VF2, SIOV, NARROW_VF].map((d) => ({ ...d, pasidBits: Math.min(d.pasidBits, pasidBits) }));
  const h = new TestHost().register({ enqcmd: options.enqcmd ?? true, pasidBits, devices });
  h.run({ type: 'CreateFd', fdId: 'fd-1', tenantId: 't1', vmId: 'vm-1' });
  h.fd('fd-1').run({ type: 'SetHwidMode', mode: 'global' });
  return h;
}

describe('scenario 3: SR-IOV + ENQCMD with a global split and KVM mapping', () => {
  it('walks the thread\'s uAPI sequence: split, hwid, bind, KVM mapping', () => {
    const h = globalFd();
    const fd = h.fd('fd-1');
    const split = fd.run({ type: 'SetGlobalMin', globalMin: 1024 });
    assert.equal((split.result as { globalMin: number }).globalMin, 1024);
    fd.run({ type: 'AllocIoasid' });
    assert.deepEqual(fd.run({ type: 'AttachDevice', ioasid: 1, rid: VF1.rid, enqcmd: true }).result, { vdevId: 'vdev-1', rid: VF1.rid, ioasid: 1, enqcmd: true });
    fd.run({ type: 'AttachDevice', ioasid: 1, rid: VF2.rid, enqcmd: false });
    fd.run({ type: 'AttachDevice', ioasid: 1, rid: SIOV.rid, enqcmd: false });
    const hwid = fd.run({ type: 'SetHwid', ioasid: 1, pasid: 5 });
    assert.deepEqual(hwid.events[0]!.data, { fdId: 'fd-1', ioasid: 1, pasid: 5, globalPasid: 1024 });
    assert.deepEqual(hwid.result, { ioasid: 1, pasid: 5, globalPasid: 1024 });

    fd.run({ type: 'BindPgtable', ioasid: 1, gpa: '0x7f0000' });
    assert.deepEqual(h.entriesOn(VF1.rid), { 1024: 'global' }, 'enqcmd: global only');
    assert.deepEqual(h.entriesOn(VF2.rid), { 5: 'local', 1024: 'global' }, 'non-enqcmd vf: local and global');
    assert.deepEqual(h.entriesOn(SIOV.rid), { 1024: 'global' }, 'siov: host PASID only');

    assert.deepEqual(fd.run({ type: 'GetHwid', ioasid: 1 }), { events: [], result: { ioasid: 1, pasid: 5, hostPasid: 1024 } });
    const mapped = fd.run({ type: 'SetKvmPasidMapping', guestPasid: 5, hostPasid: 1024 });
    assert.deepEqual(mapped.events, [{ type: 'KvmPasidMapped', data: { fdId: 'fd-1', vmId: 'vm-1', guestPasid: 5, hostPasid: 1024 } }]);
    assert.deepEqual(mapped.result, { guestPasid: 5, hostPasid: 1024 });
    assert.deepEqual(h.hw().vms, { 'vm-1': { 5: 1024 } });
    assert.deepEqual(fd.run({ type: 'SetKvmPasidMapping', guestPasid: 5, hostPasid: 1024 }).events, [], 'the same mapping again changes nothing');
    assert.deepEqual(h.state.fds.get('fd-1') && (fd.run({ type: 'GetHwid', ioasid: 1 }).result as { hostPasid: number }).hostPasid, 1024);

    // The same local PASID means the same global PASID on every device: a second ioasid cannot take it.
    fd.run({ type: 'AllocIoasid' });
    fd.run({ type: 'AttachDevice', ioasid: 2, rid: VF2.rid, enqcmd: false });
    fd.refuse({ type: 'SetHwid', ioasid: 2, pasid: 5 }, 'PASID_IN_USE');
    assert.equal(fd.one({ type: 'SetHwid', ioasid: 2, pasid: 6 }, 'HwidSet').data.globalPasid, 1025);
  });

  it('enforces the split: mode, lock, range, local PASIDs below it', () => {
    const h = globalFd({ pasidBits: 12 });
    const fd = h.fd('fd-1');
    fd.run({ type: 'AllocIoasid' });
    fd.run({ type: 'AttachDevice', ioasid: 1, rid: VF2.rid, enqcmd: false });
    fd.refuse({ type: 'SetHwid', ioasid: 1, pasid: 5 }, 'INVALID_RANGE', /global-min first/);
    fd.refuse({ type: 'SetGlobalMin', globalMin: 0 }, 'INVALID_RANGE');
    fd.refuse({ type: 'SetGlobalMin', globalMin: 4096 }, 'INVALID_RANGE');
    fd.run({ type: 'SetGlobalMin', globalMin: 4000 });
    fd.run({ type: 'SetGlobalMin', globalMin: 64 });
    fd.refuse({ type: 'SetHwid', ioasid: 1, pasid: 64 }, 'PASID_OUT_OF_RANGE');
    fd.refuse({ type: 'SetHwid', ioasid: 1, pasid: 4096 }, 'PASID_OUT_OF_RANGE');
    fd.run({ type: 'SetHwid', ioasid: 1, pasid: 63 });
    fd.refuse({ type: 'SetGlobalMin', globalMin: 128 }, 'GLOBAL_MIN_LOCKED');

    const local = new TestHost().register({ devices: [VF1] });
    local.run({ type: 'CreateFd', fdId: 'fd-1', tenantId: 't1', vmId: 'vm-1' });
    local.fd('fd-1').refuse({ type: 'SetGlobalMin', globalMin: 64 }, 'HWID_MODE_NOT_SET');
    local.fd('fd-1').run({ type: 'SetHwidMode', mode: 'local' });
    local.fd('fd-1').refuse({ type: 'SetHwidMode', mode: 'global' }, 'HWID_MODE_ALREADY_SET');
    local.fd('fd-1').refuse({ type: 'SetGlobalMin', globalMin: 64 }, 'WRONG_HWID_MODE');
  });

  it('allocates global PASIDs within every attached device\'s width and reports exhaustion', () => {
    const h = globalFd({ pasidBits: 12 });
    const fd = h.fd('fd-1');
    fd.run({ type: 'SetGlobalMin', globalMin: 1020 });
    fd.run({ type: 'AllocIoasid' });
    fd.run({ type: 'AttachDevice', ioasid: 1, rid: NARROW_VF.rid, enqcmd: false });
    // 10-bit device: global PASIDs in [1020, 1024).
    for (let pasid = 1; pasid <= 4; pasid++) {
      if (pasid > 1) {
        fd.run({ type: 'AllocIoasid' });
        fd.run({ type: 'AttachDevice', ioasid: pasid, rid: NARROW_VF.rid, enqcmd: false });
      }
      assert.equal(fd.one({ type: 'SetHwid', ioasid: pasid, pasid }, 'HwidSet').data.globalPasid, 1019 + pasid);
    }
    fd.run({ type: 'AllocIoasid' });
    fd.run({ type: 'AttachDevice', ioasid: 5, rid: NARROW_VF.rid, enqcmd: false });
    fd.refuse({ type: 'SetHwid', ioasid: 5, pasid: 5 }, 'PASID_EXHAUSTED');
    // A wider device alone on an ioasid still has room.
    fd.run({ type: 'AllocIoasid' });
    fd.run({ type: 'AttachDevice', ioasid: 6, rid: VF1.rid, enqcmd: false });
    assert.equal(fd.one({ type: 'SetHwid', ioasid: 6, pasid: 6 }, 'HwidSet').data.globalPasid, 1024);
    // ... but the narrow one cannot join it afterwards.
    fd.refuse({ type: 'AttachDevice', ioasid: 6, rid: NARROW_VF.rid, enqcmd: false }, 'PASID_WIDTH_EXCEEDED');

    const tooHigh = globalFd();
    tooHigh.fd('fd-1').run({ type: 'SetGlobalMin', globalMin: 2048 });
    tooHigh.fd('fd-1').run({ type: 'AllocIoasid' });
    tooHigh.fd('fd-1').run({ type: 'AttachDevice', ioasid: 1, rid: NARROW_VF.rid, enqcmd: false });
    tooHigh.fd('fd-1').refuse({ type: 'SetHwid', ioasid: 1, pasid: 1 }, 'PASID_WIDTH_EXCEEDED');
  });

  it('refuses enqcmd attachments outside global mode or without ENQCMD', () => {
    const local = new TestHost().register({ enqcmd: true, devices: [VF1] });
    local.run({ type: 'CreateFd', fdId: 'fd-1', tenantId: 't1', vmId: 'vm-1' });
    local.fd('fd-1').run({ type: 'AllocIoasid' });
    local.fd('fd-1').refuse({ type: 'AttachDevice', ioasid: 1, rid: VF1.rid, enqcmd: true }, 'HWID_MODE_NOT_SET');
    local.fd('fd-1').run({ type: 'SetHwidMode', mode: 'local' });
    local.fd('fd-1').refuse({ type: 'AttachDevice', ioasid: 1, rid: VF1.rid, enqcmd: true }, 'WRONG_HWID_MODE');
    local.fd('fd-1').refuse({ type: 'SetKvmPasidMapping', guestPasid: 1, hostPasid: 1 }, 'WRONG_HWID_MODE');

    const noEnqcmd = globalFd({ enqcmd: false });
    noEnqcmd.fd('fd-1').run({ type: 'AllocIoasid' });
    noEnqcmd.fd('fd-1').refuse({ type: 'AttachDevice', ioasid: 1, rid: VF1.rid, enqcmd: true }, 'CAPABILITY_MISSING');
    noEnqcmd.fd('fd-1').refuse({ type: 'SetKvmPasidMapping', guestPasid: 1, hostPasid: 1 }, 'CAPABILITY_MISSING');
  });

  it('maps a guest PASID only to the global PASID this fd holds for it', () => {
    const h = globalFd();
    h.run({ type: 'CreateFd', fdId: 'fd-2', tenantId: 't1', vmId: 'vm-2' });
    h.fd('fd-2').run({ type: 'SetHwidMode', mode: 'global' });
    for (const [fdId, rid] of [['fd-1', VF1.rid], ['fd-2', VF2.rid]] as const) {
      const fd = h.fd(fdId);
      fd.run({ type: 'SetGlobalMin', globalMin: 100 });
      fd.run({ type: 'AllocIoasid' });
      fd.run({ type: 'AttachDevice', ioasid: 1, rid, enqcmd: true });
      fd.run({ type: 'SetHwid', ioasid: 1, pasid: 7 });
    }
    // fd-1 holds 100 for guest PASID 7; fd-2 holds 101.
    const fd1 = h.fd('fd-1');
    fd1.refuse({ type: 'SetKvmPasidMapping', guestPasid: 7, hostPasid: 101 }, 'PASID_NOT_OWNED');
    fd1.refuse({ type: 'SetKvmPasidMapping', guestPasid: 8, hostPasid: 100 }, 'PASID_NOT_OWNED');
    fd1.run({ type: 'SetKvmPasidMapping', guestPasid: 7, hostPasid: 100 });
    h.fd('fd-2').run({ type: 'SetKvmPasidMapping', guestPasid: 7, hostPasid: 101 });
    assert.deepEqual(h.hw().vms, { 'vm-1': { 7: 100 }, 'vm-2': { 7: 101 } });

    fd1.refuse({ type: 'UnsetKvmPasidMapping', guestPasid: 8 }, 'NOT_FOUND');
    fd1.one({ type: 'UnsetKvmPasidMapping', guestPasid: 7 }, 'KvmPasidUnmapped');
    fd1.run({ type: 'SetKvmPasidMapping', guestPasid: 7, hostPasid: 100 });
    // Freeing the ioasid takes its KVM mapping with it.
    fd1.run({ type: 'DetachDevice', ioasid: 1, rid: VF1.rid });
    const freed = fd1.one({ type: 'FreeIoasid', ioasid: 1 }, 'IoasidFreed');
    assert.deepEqual(freed.data.released, { pasids: [100], entries: [], contexts: [], kvmGuestPasids: [7], mdevs: [] });
    assert.deepEqual(h.hw().vms, { 'vm-2': { 7: 101 } });
  });

  it('counts host PASIDs against the tenant quota on this host', () => {
    const h = globalFd();
    h.quotas.set('t1', { maxFds: 2, maxHostPasids: 2 });
    h.run({ type: 'CreateFd', fdId: 'fd-2', tenantId: 't1', vmId: 'vm-2' });
    h.refuse({ type: 'CreateFd', fdId: 'fd-3', tenantId: 't1', vmId: 'vm-3' }, 'QUOTA_EXCEEDED');
    const fd = h.fd('fd-1');
    fd.run({ type: 'SetGlobalMin', globalMin: 100 });
    for (let i = 1; i <= 3; i++) {
      fd.run({ type: 'AllocIoasid' });
      fd.run({ type: 'AttachDevice', ioasid: i, rid: VF1.rid, enqcmd: false });
    }
    fd.run({ type: 'SetHwid', ioasid: 1, pasid: 1 });
    fd.run({ type: 'SetHwid', ioasid: 2, pasid: 2 });
    fd.refuse({ type: 'SetHwid', ioasid: 3, pasid: 3 }, 'QUOTA_EXCEEDED');
    // Another tenant is not affected.
    h.run({ type: 'CreateFd', fdId: 'fd-9', tenantId: 't2', vmId: 'vm-9' });
    h.fd('fd-9').run({ type: 'SetHwidMode', mode: 'local' });
    h.fd('fd-9').run({ type: 'AllocIoasid' });
    h.fd('fd-9').run({ type: 'AttachDevice', ioasid: 1, rid: SIOV.rid, enqcmd: false });
    h.fd('fd-9').one({ type: 'SetHwid', ioasid: 1, pasid: 3 }, 'HwidSet');
    // Freeing gives quota back.
    fd.run({ type: 'DetachDevice', ioasid: 1, rid: VF1.rid });
    fd.run({ type: 'FreeIoasid', ioasid: 1 });
    fd.one({ type: 'SetHwid', ioasid: 3, pasid: 3 }, 'HwidSet');
  });
});
