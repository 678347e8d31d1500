import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { TestHost, SIOV, VF1, VF2 } from '../support/domain-host';

/** Scenario 1 of the thread: a vf whose whole PASID space is delegated to a guest-owned PASID table. */
function nestedHost(): TestHost {
  const h = new TestHost().register({ nestedPasidTable: true, devices: [VF1, VF2, SIOV] });
  h.run({ type: 'CreateFd', fdId: 'fd-1', tenantId: 't1', vmId: 'vm-1' });
  return h;
}

describe('scenario 1: guest PASID table on vf', () => {
  it('points every attached vf RID at the guest table and programs no PASID entry', () => {
    const h = nestedHost();
    const fd = h.fd('fd-1');
    fd.one({ type: 'SetHwidMode', mode: 'local' }, 'HwidModeSet');
    assert.deepEqual(fd.run({ type: 'AllocIoasid' }).result, { ioasid: 1 });
    fd.one({ type: 'AttachDevice', ioasid: 1, rid: VF1.rid, enqcmd: false }, 'DeviceAttached');
    const set = fd.one({ type: 'SetPasidTable', ioasid: 1, gpa: '0x7f000000' }, 'PasidTableSet');
    assert.deepEqual(set.data, { fdId: 'fd-1', ioasid: 1, gpa: '0x7f000000', contexts: [VF1.rid] });
    assert.deepEqual(h.hw().rids[VF1.rid], { context: { table: 'guest', gpa: '0x7f000000' }, pasids: {} });

    // A vf attached later joins the guest table at attach time.
    const late = fd.one({ type: 'AttachDevice', ioasid: 1, rid: VF2.rid, enqcmd: false }, 'DeviceAttached');
    assert.equal(late.data.guestPasidTableGpa, '0x7f000000');
    assert.deepEqual(late.data.programmed, []);
    assert.deepEqual(h.hw().rids[VF2.rid]!.context, { table: 'guest', gpa: '0x7f000000' });
  });

  it('gives the context back to the host on detach and on close', () => {
    const h = nestedHost();
    const fd = h.fd('fd-1');
    fd.run({ type: 'SetHwidMode', mode: 'local' });
    fd.run({ type: 'AllocIoasid' });
    fd.run({ type: 'AttachDevice', ioasid: 1, rid: VF1.rid, enqcmd: false });
    fd.run({ type: 'AttachDevice', ioasid: 1, rid: VF2.rid, enqcmd: false });
    fd.run({ type: 'SetPasidTable', ioasid: 1, gpa: '0x7f000000' });
    const detached = fd.one({ type: 'DetachDevice', ioasid: 1, rid: VF1.rid }, 'DeviceDetached');
    assert.deepEqual(detached.data.released.contexts, [VF1.rid]);
    assert.deepEqual(h.hw().rids[VF1.rid]!.context, { table: 'host' });
    const closed = h.one({ type: 'CloseFd', fdId: 'fd-1' }, 'FdClosed');
    assert.deepEqual(closed.data.released.contexts, [VF2.rid]);
    assert.deepEqual(h.hw().rids[VF2.rid]!.context, { table: 'host' });
    // The vf is free again for another VM.
    h.run({ type: 'CreateFd', fdId: 'fd-2', tenantId: 't1', vmId: 'vm-2' });
    h.fd('fd-2').run({ type: 'SetHwidMode', mode: 'local' });
    h.fd('fd-2').run({ type: 'AllocIoasid' });
    h.fd('fd-2').one({ type: 'AttachDevice', ioasid: 1, rid: VF2.rid, enqcmd: false }, 'DeviceAttached');
  });

  it('refuses what a guest PASID table cannot do', () => {
    const h = nestedHost();
    const fd = h.fd('fd-1');
    fd.refuse({ type: 'SetPasidTable', ioasid: 1, gpa: '0x1000' }, 'NOT_FOUND');
    fd.run({ type: 'AllocIoasid' });
    fd.refuse({ type: 'SetPasidTable', ioasid: 1, gpa: '0x1000' }, 'HWID_MODE_NOT_SET');
    fd.run({ type: 'SetHwidMode', mode: 'local' });
    fd.refuse({ type: 'SetPasidTable', ioasid: 1, gpa: '0x1000' }, 'NOT_ATTACHED');
    fd.run({ type: 'AttachDevice', ioasid: 1, rid: VF1.rid, enqcmd: false });
    fd.refuse({ type: 'SetPasidTable', ioasid: 1, gpa: '0x1001' }, 'INVALID_RANGE');
    fd.refuse({ type: 'SetPasidTable', ioasid: 1, gpa: 'banana' }, 'INVALID_RANGE');

    // A siov RID needs its PASID table in host memory.
    fd.run({ type: 'AllocIoasid' });
    fd.run({ type: 'AttachDevice', ioasid: 2, rid: SIOV.rid, enqcmd: false });
    fd.refuse({ type: 'SetPasidTable', ioasid: 2, gpa: '0x1000' }, 'CAPABILITY_MISSING');

    // A hwid and a guest table exclude each other.
    fd.run({ type: 'SetHwid', ioasid: 1, pasid: 5 });
    fd.refuse({ type: 'SetPasidTable', ioasid: 1, gpa: '0x1000' }, 'HWID_ALREADY_SET');

    fd.run({ type: 'AllocIoasid' });
    fd.run({ type: 'AttachDevice', ioasid: 3, rid: VF2.rid, enqcmd: false });
    fd.one({ type: 'SetPasidTable', ioasid: 3, gpa: '0x2000' }, 'PasidTableSet');
    fd.refuse({ type: 'SetPasidTable', ioasid: 3, gpa: '0x3000' }, 'ALREADY_EXISTS');
    fd.refuse({ type: 'SetHwid', ioasid: 3, pasid: 9 }, 'ALREADY_EXISTS');
    fd.refuse({ type: 'AttachDevice', ioasid: 3, rid: SIOV.rid, enqcmd: false }, 'CAPABILITY_MISSING');
    // A RID on the guest table serves that ioasid only, and a RID on another ioasid cannot join it.
    fd.refuse({ type: 'AttachDevice', ioasid: 1, rid: VF2.rid, enqcmd: false }, 'DEVICE_BUSY');
    fd.refuse({ type: 'AttachDevice', ioasid: 3, rid: VF1.rid, enqcmd: false }, 'DEVICE_BUSY');
  });

  it('needs local mode and a host that walks guest tables', () => {
    const global = nestedHost();
    global.fd('fd-1').run({ type: 'SetHwidMode', mode: 'global' });
    global.fd('fd-1').run({ type: 'AllocIoasid' });
    global.fd('fd-1').run({ type: 'AttachDevice', ioasid: 1, rid: VF1.rid, enqcmd: false });
    global.fd('fd-1').refuse({ type: 'SetPasidTable', ioasid: 1, gpa: '0x1000' }, 'WRONG_HWID_MODE');

    const plain = new TestHost().register({ nestedPasidTable: false, devices: [VF1] });
    plain.run({ type: 'CreateFd', fdId: 'fd-1', tenantId: 't1', vmId: 'vm-1' });
    plain.fd('fd-1').run({ type: 'SetHwidMode', mode: 'local' });
    plain.fd('fd-1').run({ type: 'AllocIoasid' });
    plain.fd('fd-1').run({ type: 'AttachDevice', ioasid: 1, rid: VF1.rid, enqcmd: false });
    plain.fd('fd-1').refuse({ type: 'SetPasidTable', ioasid: 1, gpa: '0x1000' }, 'CAPABILITY_MISSING');
  });
});
