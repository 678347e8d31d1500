import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { TestHost, SIOV, VF1, VF2 } from '../support/domain-host';

const NARROW_VF = { rid: '0000:3b:00.7', kind: 'vf' as const, pasidBits: 4 };
const NARROW_SIOV = { rid: '0000:5e:00.1', kind: 'siov' as const, pasidBits: 3 };

function localFd(devices = [VF1, VF2, SIOV, NARROW_VF, NARROW_SIOV], pasidBits = 20): TestHost {
  const h = new TestHost().register({ pasidBits, devices });
  h.run({ type: 'CreateFd', fdId: 'fd-1', tenantId: 't1', vmId: 'vm-1' });
  h.fd('fd-1').run({ type: 'SetHwidMode', mode: 'local' });
  return h;
}

describe('scenario 2: PASID per RID (local mode)', () => {
  it('uses the user PASID as the host PASID on a vf and programs it at bind', () => {
    const h = localFd();
    const fd = h.fd('fd-1');
    fd.run({ type: 'AllocIoasid' });
    fd.run({ type: 'AttachDevice', ioasid: 1, rid: VF1.rid, enqcmd: false });
    const hwid = fd.run({ type: 'SetHwid', ioasid: 1, pasid: 100 });
    assert.deepEqual(hwid.events[0]!.data, { fdId: 'fd-1', ioasid: 1, pasid: 100 });
    assert.deepEqual(hwid.result, { ioasid: 1, pasid: 100 });
    assert.equal(h.hw().allocator.used, 0, 'a guest-chosen PASID takes nothing from the host allocator');
    assert.deepEqual(fd.run({ type: 'GetHwid', ioasid: 1 }), { events: [], result: { ioasid: 1, pasid: 100, hostPasid: 100 } });

    const bound = fd.one({ type: 'BindPgtable', ioasid: 1, gpa: '0x7f0000' }, 'PgtableBound');
    assert.deepEqual(bound.data.programmed, [
      { rid: VF1.rid, pasid: 100, origin: 'local', fdId: 'fd-1', ioasid: 1, firstStageGpa: '0x7f0000', domainId: 1 },
    ]);
    assert.deepEqual(h.hw().rids[VF1.rid]!.pasids['100'], {
      fdId: 'fd-1', ioasid: 1, origin: 'local', pgtt: 'nested', firstStageGpa: '0x7f0000', domainId: 1,
    });
    // A device attached after the bind is programmed at attach time.
    const late = fd.one({ type: 'AttachDevice', ioasid: 1, rid: VF2.rid, enqcmd: false }, 'DeviceAttached');
    assert.deepEqual(late.data.programmed.map((e) => [e.rid, e.pasid, e.origin]), [[VF2.rid, 100, 'local']]);
    // Another page table replaces this one atomically (pgtable-replace.test.ts has the details).
    assert.deepEqual(fd.one({ type: 'BindPgtable', ioasid: 1, gpa: '0x9000' }, 'PgtableReplaced').data.repointed, [
      { rid: VF1.rid, pasid: 100 },
      { rid: VF2.rid, pasid: 100 },
    ]);
  });

  it('keeps a user PASID unique per RID but not across RIDs', () => {
    const h = localFd();
    const fd = h.fd('fd-1');
    fd.run({ type: 'AllocIoasid' });
    fd.run({ type: 'AllocIoasid' });
    fd.run({ type: 'AllocIoasid' });
    fd.run({ type: 'AttachDevice', ioasid: 1, rid: VF1.rid, enqcmd: false });
    fd.run({ type: 'AttachDevice', ioasid: 2, rid: VF1.rid, enqcmd: false });
    fd.run({ type: 'AttachDevice', ioasid: 3, rid: VF2.rid, enqcmd: false });
    fd.run({ type: 'SetHwid', ioasid: 1, pasid: 7 });
    fd.refuse({ type: 'SetHwid', ioasid: 2, pasid: 7 }, 'PASID_IN_USE');
    fd.run({ type: 'SetHwid', ioasid: 3, pasid: 7 });
    // Attaching VF1 to ioasid 3 would put PASID 7 on VF1 twice.
    fd.refuse({ type: 'AttachDevice', ioasid: 3, rid: VF1.rid, enqcmd: false }, 'PASID_IN_USE');
    fd.refuse({ type: 'SetHwid', ioasid: 1, pasid: 8 }, 'HWID_ALREADY_SET');
  });

  it('checks the user PASID against the host and device widths', () => {
    const h = localFd();
    const fd = h.fd('fd-1');
    fd.run({ type: 'AllocIoasid' });
    fd.run({ type: 'AttachDevice', ioasid: 1, rid: NARROW_VF.rid, enqcmd: false });
    fd.refuse({ type: 'SetHwid', ioasid: 1, pasid: 0 }, 'PASID_OUT_OF_RANGE');
    fd.refuse({ type: 'SetHwid', ioasid: 1, pasid: 1 << 20 }, 'PASID_OUT_OF_RANGE');
    fd.refuse({ type: 'SetHwid', ioasid: 1, pasid: 16 }, 'PASID_WIDTH_EXCEEDED');
    fd.run({ type: 'SetHwid', ioasid: 1, pasid: 15 });
    fd.run({ type: 'AllocIoasid' });
    fd.run({ type: 'AttachDevice', ioasid: 2, rid: VF1.rid, enqcmd: false });
    fd.run({ type: 'SetHwid', ioasid: 2, pasid: 20 });
    fd.refuse({ type: 'AttachDevice', ioasid: 2, rid: NARROW_VF.rid, enqcmd: false }, 'PASID_WIDTH_EXCEEDED');
  });

  it('gives a siov ioasid a real PASID and exposing it makes the fd non-migratable', () => {
    const h = localFd();
    const fd = h.fd('fd-1');
    fd.run({ type: 'AllocIoasid' });
    const attached = fd.run({ type: 'AttachDevice', ioasid: 1, rid: SIOV.rid, enqcmd: false });
    assert.deepEqual(attached.result, { vdevId: 'vdev-1', rid: SIOV.rid, ioasid: 1, enqcmd: false, mdevId: 'mdev-1' });
    fd.run({ type: 'AttachDevice', ioasid: 1, rid: VF1.rid, enqcmd: false });
    const hwid = fd.one({ type: 'SetHwid', ioasid: 1, pasid: 100 }, 'HwidSet');
    assert.equal(hwid.data.realPasid, 1);
    assert.equal(hwid.data.globalPasid, undefined);
    assert.deepEqual(h.hw().allocator, { used: 1, free: (1 << 20) - 2, reserved: [] });

    const bound = fd.one({ type: 'BindPgtable', ioasid: 1, gpa: '0x1000' }, 'PgtableBound');
    assert.deepEqual(bound.data.programmed.map((e) => [e.rid, e.pasid, e.origin]), [
      [SIOV.rid, 1, 'real'],
      [VF1.rid, 100, 'local'],
    ]);

    const got = fd.run({ type: 'GetHwid', ioasid: 1 });
    assert.deepEqual(got.result, { ioasid: 1, pasid: 100, hostPasid: 1 });
    assert.equal(got.events[0]!.type, 'HwidExposed');
    const view = h.state.fds.get('fd-1')!;
    assert.equal(view.migratable, false);
    assert.match(view.migratableReason!, /real siov PASID 1/);
    assert.deepEqual(fd.run({ type: 'GetHwid', ioasid: 1 }).events, [], 'exposed once');
    fd.refuse({ type: 'StartMigration', migrationId: 'm1', targetHostId: 'host-b' }, 'NOT_MIGRATABLE', /real siov PASID/);
  });

  it('keeps a frozen fd migratable: exposing its real PASID waits for the migration', () => {
    const h = localFd();
    const fd = h.fd('fd-1');
    fd.run({ type: 'AllocIoasid' });
    fd.run({ type: 'AttachDevice', ioasid: 1, rid: SIOV.rid, enqcmd: false });
    fd.run({ type: 'SetHwid', ioasid: 1, pasid: 8 });
    fd.run({ type: 'StartMigration', migrationId: 'm1', targetHostId: 'host-b' });
    fd.refuse({ type: 'GetHwid', ioasid: 1 }, 'FD_MIGRATING');
    fd.run({ type: 'AbortMigration', migrationId: 'm1', reason: 'operator' });
    assert.equal(fd.one({ type: 'GetHwid', ioasid: 1 }, 'HwidExposed').data.hostPasid, 1);
  });

  it('allocates the real PASID at attach when the hwid came first, within the siov width', () => {
    const h = localFd();
    const fd = h.fd('fd-1');
    fd.run({ type: 'AllocIoasid' });
    fd.run({ type: 'AttachDevice', ioasid: 1, rid: VF1.rid, enqcmd: false });
    fd.run({ type: 'SetHwid', ioasid: 1, pasid: 3 });
    fd.run({ type: 'BindPgtable', ioasid: 1, gpa: '0x1000' });
    const siov = fd.one({ type: 'AttachDevice', ioasid: 1, rid: SIOV.rid, enqcmd: false }, 'DeviceAttached');
    assert.equal(siov.data.realPasid, 1);
    assert.deepEqual(siov.data.programmed.map((e) => [e.pasid, e.origin]), [[1, 'real']]);
    // A second mdev of the same RID on the same ioasid shares the entry.
    const second = fd.one({ type: 'AttachDevice', ioasid: 1, rid: SIOV.rid, enqcmd: false }, 'DeviceAttached');
    assert.equal(second.data.mdevId, 'mdev-2');
    assert.equal(second.data.realPasid, undefined);
    assert.deepEqual(second.data.programmed, []);
    assert.deepEqual(h.entriesOn(SIOV.rid), { 1: 'real' });

    fd.refuse({ type: 'DetachDevice', ioasid: 1, rid: SIOV.rid }, 'VALIDATION_FAILED');
    fd.refuse({ type: 'DetachDevice', ioasid: 1, rid: SIOV.rid, mdevId: 'mdev-9' }, 'NOT_ATTACHED');
    const first = fd.one({ type: 'DetachDevice', ioasid: 1, rid: SIOV.rid, mdevId: 'mdev-1' }, 'DeviceDetached');
    assert.deepEqual(first.data.released, { pasids: [], entries: [], contexts: [], kvmGuestPasids: [], mdevs: ['mdev-1'] });
    assert.deepEqual(h.entriesOn(SIOV.rid), { 1: 'real' }, 'the entry stays while mdev-2 uses it');
    const last = fd.one({ type: 'DetachDevice', ioasid: 1, rid: SIOV.rid }, 'DeviceDetached');
    assert.deepEqual(last.data.released.entries, [{ rid: SIOV.rid, pasid: 1 }]);
    assert.deepEqual(h.entriesOn(SIOV.rid), {});

    // A narrow siov device cannot carry a real PASID above its width.
    fd.run({ type: 'AllocIoasid' });
    for (let i = 0; i < 7; i++) fd.run({ type: 'AllocIoasid' });
    for (let io = 2; io <= 9; io++) fd.run({ type: 'AttachDevice', ioasid: io, rid: NARROW_SIOV.rid, enqcmd: false });
    // The virtual PASIDs fit the 3-bit device too (they are what the guest was shown).
    for (let io = 2; io <= 7; io++) fd.run({ type: 'SetHwid', ioasid: io, pasid: io - 1 });
    fd.refuse({ type: 'SetHwid', ioasid: 8, pasid: 99 }, 'PASID_WIDTH_EXCEEDED', /virtual PASID 99/);
    // Real PASIDs 2..7 are taken (1 is still ioasid 1's): 3-bit space is [1, 8) and full now.
    fd.refuse({ type: 'SetHwid', ioasid: 8, pasid: 7 }, 'PASID_EXHAUSTED');
    fd.run({ type: 'DetachDevice', ioasid: 1, rid: VF1.rid });
    fd.run({ type: 'FreeIoasid', ioasid: 1 });
    assert.equal(fd.one({ type: 'SetHwid', ioasid: 8, pasid: 7 }, 'HwidSet').data.realPasid, 1);
    fd.run({ type: 'AllocIoasid' });
    fd.run({ type: 'AttachDevice', ioasid: 1, rid: SIOV.rid, enqcmd: false });
    fd.run({ type: 'SetHwid', ioasid: 1, pasid: 40 });
    fd.refuse({ type: 'AttachDevice', ioasid: 1, rid: NARROW_SIOV.rid, enqcmd: false }, 'PASID_WIDTH_EXCEEDED');
  });

  it('lets several VMs share a siov RID, each with its own real PASIDs', () => {
    const h = localFd();
    h.run({ type: 'CreateFd', fdId: 'fd-2', tenantId: 't2', vmId: 'vm-2' });
    h.fd('fd-2').run({ type: 'SetHwidMode', mode: 'local' });
    for (const fdId of ['fd-1', 'fd-2']) {
      const fd = h.fd(fdId);
      fd.run({ type: 'AllocIoasid' });
      fd.run({ type: 'AttachDevice', ioasid: 1, rid: SIOV.rid, enqcmd: false });
      fd.run({ type: 'SetHwid', ioasid: 1, pasid: 5 });
      fd.run({ type: 'BindPgtable', ioasid: 1, gpa: '0x4000' });
    }
    const entries = h.hw().rids[SIOV.rid]!.pasids;
    assert.deepEqual(Object.keys(entries), ['1', '2']);
    assert.equal(entries['1']!.fdId, 'fd-1');
    assert.equal(entries['2']!.fdId, 'fd-2');
    assert.equal(entries['2']!.domainId, 2);
    // vf RIDs stay with one fd.
    h.fd('fd-1').run({ type: 'AttachDevice', ioasid: 1, rid: VF1.rid, enqcmd: false });
    h.fd('fd-2').refuse({ type: 'AttachDevice', ioasid: 1, rid: VF1.rid, enqcmd: false }, 'DEVICE_BUSY');
  });

  it('unbinds, detaches and frees leaving nothing behind', () => {
    const h = localFd();
    const fd = h.fd('fd-1');
    fd.run({ type: 'AllocIoasid' });
    fd.run({ type: 'AttachDevice', ioasid: 1, rid: VF1.rid, enqcmd: false });
    fd.run({ type: 'AttachDevice', ioasid: 1, rid: SIOV.rid, enqcmd: false });
    fd.run({ type: 'SetHwid', ioasid: 1, pasid: 9 });
    fd.run({ type: 'BindPgtable', ioasid: 1, gpa: '0x1000' });
    const unbound = fd.one({ type: 'UnbindPgtable', ioasid: 1 }, 'PgtableUnbound');
    assert.deepEqual(unbound.data.cleared, [{ rid: VF1.rid, pasid: 9 }, { rid: SIOV.rid, pasid: 1 }]);
    fd.refuse({ type: 'UnbindPgtable', ioasid: 1 }, 'NOT_FOUND');
    fd.refuse({ type: 'FreeIoasid', ioasid: 1 }, 'IOASID_BUSY');
    fd.run({ type: 'DetachDevice', ioasid: 1, rid: VF1.rid });
    fd.refuse({ type: 'DetachDevice', ioasid: 1, rid: VF1.rid }, 'NOT_ATTACHED');
    fd.refuse({ type: 'DetachDevice', ioasid: 1, rid: '0000:00:00.0' }, 'NOT_FOUND');
    fd.run({ type: 'DetachDevice', ioasid: 1, rid: SIOV.rid });
    const freed = fd.one({ type: 'FreeIoasid', ioasid: 1 }, 'IoasidFreed');
    assert.deepEqual(freed.data.released.pasids, [1]);
    assert.equal(h.hw().allocator.used, 0);
    assert.equal(fd.one({ type: 'AllocIoasid' }, 'IoasidAllocated').data.ioasid, 1, 'lowest free ioasid again');
  });
});
