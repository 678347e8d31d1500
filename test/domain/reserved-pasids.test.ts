import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { HostEvent } from '../../src/model';
import { hostView } from '../../src/domain';
import { HardwareFault, HostHardware, replayHardware } from '../../src/hardware';
import { SIOV as SIOV20, TestHost, VF1 as VF20 } from '../support/domain-host';

const VF1 = { ...VF20, pasidBits: 8 };
const SIOV = { ...SIOV20, pasidBits: 8 };

const RESERVED = [{ from: 64, count: 4 }, { from: 1, count: 2 }];

describe('reserved host PASIDs (the host kernel’s own)', () => {
  it('refuses overlapping, empty or out-of-range ranges: INVALID_RANGE', () => {
    const h = new TestHost();
    const register = (reservedPasids: unknown) =>
      h.refuse({ type: 'RegisterHost', hostId: 'h', pasidBits: 8, enqcmd: true, nestedPasidTable: false, devices: [VF1], reservedPasids } as never, 'INVALID_RANGE');
    assert.match(register([{ from: 10, count: 5 }, { from: 14, count: 1 }]).message, /overlap/);
    register([{ from: 0, count: 1 }]);
    register([{ from: 251, count: 6 }]);
    register([{ from: 3, count: 0 }]);
    register([{ from: 1.5, count: 1 }]);
    register({ from: 1, count: 1 });
  });

  it('never hands them out, global or real, and the views show them', () => {
    const h = new TestHost().register({ hostId: 'h', pasidBits: 8, enqcmd: true, devices: [VF1, SIOV] });
    assert.deepEqual(hostView(h.state)!.reservedPasids, []);
    assert.equal(h.log[0]!.type === 'HostRegistered' && 'reservedPasids' in h.log[0].data, false, 'a host without reservations registers as before');

    const r = new TestHost();
    const registered = r.one({ type: 'RegisterHost', hostId: 'h', pasidBits: 8, enqcmd: true, nestedPasidTable: false, devices: [VF1, SIOV], reservedPasids: RESERVED }, 'HostRegistered');
    assert.deepEqual(registered.data.reservedPasids, [{ from: 1, count: 2 }, { from: 64, count: 4 }], 'sorted');
    assert.deepEqual(hostView(r.state)!.reservedPasids, [{ from: 1, count: 2 }, { from: 64, count: 4 }]);
    assert.deepEqual(r.hw().allocator, { used: 0, free: 255 - 6, reserved: [{ from: 1, count: 2 }, { from: 64, count: 4 }] });

    r.run({ type: 'CreateFd', fdId: 'fd-g', tenantId: 't1', vmId: 'vm-g' });
    const g = r.fd('fd-g');
    g.run({ type: 'SetHwidMode', mode: 'global' });
    g.run({ type: 'SetGlobalMin', globalMin: 63 });
    for (let ioasid = 1; ioasid <= 3; ioasid++) {
      g.run({ type: 'AllocIoasid' });
      g.run({ type: 'AttachDevice', ioasid, rid: SIOV.rid, enqcmd: false });
    }
    const globals = [1, 2, 3].map((ioasid) => g.one({ type: 'SetHwid', ioasid, pasid: ioasid }, 'HwidSet').data.globalPasid);
    assert.deepEqual(globals, [63, 68, 69], 'the global PASIDs jump over 64-67');

    r.run({ type: 'CreateFd', fdId: 'fd-l', tenantId: 't1', vmId: 'vm-l' });
    const l = r.fd('fd-l');
    l.run({ type: 'SetHwidMode', mode: 'local' });
    l.run({ type: 'AllocIoasid' });
    l.run({ type: 'AttachDevice', ioasid: 1, rid: SIOV.rid, enqcmd: false });
    assert.equal(l.one({ type: 'SetHwid', ioasid: 1, pasid: 5 }, 'HwidSet').data.realPasid, 3, 'the real PASID skips 1 and 2');
  });

  it('the hardware refuses on its own an event that takes a reserved PASID', () => {
    const events: HostEvent[] = [
      { type: 'HostRegistered', data: { hostId: 'h', pasidBits: 8, enqcmd: true, nestedPasidTable: false, devices: [SIOV], reservedPasids: [{ from: 1, count: 2 }] } },
      { type: 'FdCreated', data: { fdId: 'fd-1', tenantId: 't', vmId: 'vm-1', domainId: 1 } },
      { type: 'HwidModeSet', data: { fdId: 'fd-1', mode: 'local' } },
      { type: 'IoasidAllocated', data: { fdId: 'fd-1', ioasid: 1 } },
      { type: 'DeviceAttached', data: { fdId: 'fd-1', ioasid: 1, rid: SIOV.rid, enqcmd: false, mdevId: 'mdev-1', programmed: [] } },
    ];
    const hw = replayHardware(events);
    const before = hw.hash();
    assert.throws(
      () => hw.apply({ type: 'HwidSet', data: { fdId: 'fd-1', ioasid: 1, pasid: 5, realPasid: 2 } }),
      (e) => e instanceof HardwareFault && e.invariant === 'I1' && /reserved/.test(e.message),
    );
    assert.equal(hw.hash(), before, 'nothing changed');
    hw.apply({ type: 'HwidSet', data: { fdId: 'fd-1', ioasid: 1, pasid: 5, realPasid: 3 } });
    // The reservation is part of the hardware state: in its hash and its snapshot.
    const restored = HostHardware.fromSnapshot(JSON.parse(JSON.stringify(hw.toSnapshot())));
    assert.equal(restored.hash(), hw.hash());
    assert.deepEqual(restored.view().allocator.reserved, [{ from: 1, count: 2 }]);
    const unreserved = replayHardware([{ ...events[0]!, data: { ...events[0]!.data, reservedPasids: undefined } } as HostEvent]);
    assert.notEqual(unreserved.hash(), replayHardware(events.slice(0, 1)).hash());
    assert.throws(
      () => replayHardware([{ ...events[0]!, data: { ...events[0]!.data, reservedPasids: [{ from: 4, count: 2 }, { from: 5, count: 1 }] } } as HostEvent]),
      (e) => e instanceof HardwareFault && /disjoint/.test(e.message),
    );
  });
});
