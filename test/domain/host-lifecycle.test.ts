import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { HostCommand, HostEvent } from '../../src/model';
import { exportFd, hostView } from '../../src/domain';
import { HardwareFault, HostHardware, replayHardware } from '../../src/hardware';
import { deserializeHostState, serializeHostState } from '../../src/composition/host-state';
import { SIOV, TestHost, VF1, VF2 } from '../support/domain-host';

const HOST = 'host-a';
const ADDED = { rid: '0000:af:00.1', kind: 'vf' as const, pasidBits: 8 };

function host(): TestHost {
  return new TestHost().register({ hostId: HOST, pasidBits: 20, devices: [VF1, SIOV] });
}

/** An fd on `h` attached to `rid` with a hwid (and, for a vf, the guest's PASID programmed by a page table). */
function attached(h: TestHost, fdId: string, rid: string): void {
  h.run({ type: 'CreateFd', fdId, tenantId: 't1', vmId: `vm-${fdId}` });
  const fd = h.fd(fdId);
  fd.run({ type: 'SetHwidMode', mode: 'local' });
  fd.run({ type: 'AllocIoasid' });
  fd.run({ type: 'AttachDevice', ioasid: 1, rid, enqcmd: false });
  fd.run({ type: 'SetHwid', ioasid: 1, pasid: 5 });
  fd.run({ type: 'BindPgtable', ioasid: 1, gpa: '0x1000' });
}

describe('host lifecycle: devices', () => {
  it('adds a device: the host view, the hardware (a RID with a host context) and its hash follow; a RID the host has is ALREADY_EXISTS', () => {
    const h = host();
    const before = h.state.hw.hash();
    const added = h.one({ type: 'AddDevice', hostId: HOST, ...ADDED }, 'DeviceAdded');
    assert.deepEqual(added.data, { hostId: HOST, ...ADDED });
    assert.deepEqual(hostView(h.state)!.devices, [VF1, SIOV, ADDED], 'added at the end of the list');
    assert.deepEqual(h.hw().rids[ADDED.rid], { context: { table: 'host' }, pasids: {} });
    assert.notEqual(h.state.hw.hash(), before, 'the hash covers the devices');
    h.refuse({ type: 'AddDevice', hostId: HOST, ...ADDED }, 'ALREADY_EXISTS');
    h.refuse({ type: 'AddDevice', hostId: HOST, ...VF1 }, 'ALREADY_EXISTS');
    h.refuse({ type: 'AddDevice', hostId: HOST, rid: '0000:af:00.2', kind: 'vf', pasidBits: 21 }, 'INVALID_RANGE');
    h.refuse({ type: 'AddDevice', hostId: HOST, rid: '0000:af:00.2', kind: 'nic', pasidBits: 8 } as never, 'INVALID_RANGE');
    h.refuse({ type: 'AddDevice', hostId: HOST, rid: '', kind: 'vf', pasidBits: 8 }, 'INVALID_RANGE');
    new TestHost().refuse({ type: 'AddDevice', hostId: HOST, ...ADDED }, 'NOT_FOUND');

    // An added device is a device like the others: an fd attaches it and programs it.
    attached(h, 'fd-1', ADDED.rid);
    assert.deepEqual(h.entriesOn(ADDED.rid), { 5: 'local' });
  });

  it('removes a device nothing holds; a vf owned by an fd, a siov with mdevs, an entry on it is DEVICE_BUSY naming the fds', () => {
    const h = host();
    h.run({ type: 'AddDevice', hostId: HOST, ...VF2 });
    attached(h, 'fd-1', VF1.rid);
    attached(h, 'fd-2', SIOV.rid);
    const busy = h.refuse({ type: 'RemoveDevice', hostId: HOST, rid: VF1.rid }, 'DEVICE_BUSY');
    assert.deepEqual(busy.details, { rid: VF1.rid, fdIds: ['fd-1'] });
    assert.deepEqual(h.refuse({ type: 'RemoveDevice', hostId: HOST, rid: SIOV.rid }, 'DEVICE_BUSY').details, { rid: SIOV.rid, fdIds: ['fd-2'] });
    h.refuse({ type: 'RemoveDevice', hostId: HOST, rid: '0000:ff:00.0' }, 'NOT_FOUND');

    const removed = h.one({ type: 'RemoveDevice', hostId: HOST, rid: VF2.rid }, 'DeviceRemoved');
    assert.deepEqual(removed.data, { hostId: HOST, rid: VF2.rid });
    assert.deepEqual(hostView(h.state)!.devices, [VF1, SIOV]);
    assert.equal(h.hw().rids[VF2.rid], undefined, 'the hardware loses the RID');
    assert.deepEqual(h.state.host!.removedDevices, [VF2], 'the history keeps what the RID was');
    h.fd('fd-1').refuse({ type: 'AttachDevice', ioasid: 1, rid: VF2.rid, enqcmd: false }, 'NOT_FOUND');

    // Detached (entries released with it), the device is free to go.
    h.fd('fd-2').run({ type: 'DetachDevice', ioasid: 1, rid: SIOV.rid, mdevId: 'mdev-1' });
    h.one({ type: 'RemoveDevice', hostId: HOST, rid: SIOV.rid }, 'DeviceRemoved');
    // Added again as another kind: both specs stay in the history.
    h.run({ type: 'AddDevice', hostId: HOST, rid: SIOV.rid, kind: 'vf', pasidBits: 20 });
    h.run({ type: 'RemoveDevice', hostId: HOST, rid: SIOV.rid });
    assert.deepEqual(h.state.host!.removedDevices, [VF2, SIOV, { rid: SIOV.rid, kind: 'vf', pasidBits: 20 }]);
  });

  it('a migration cannot land on a removed device, and lands on an added one', () => {
    const source = host();
    attached(source, 'fd-1', VF1.rid);
    const target = new TestHost().register({ hostId: 'host-b', pasidBits: 20, devices: [VF2] });
    target.run({ type: 'RemoveDevice', hostId: 'host-b', rid: VF2.rid });
    const image = exportFd(source.state, 'fd-1');
    const importFd = (deviceMap: Record<string, string>): HostCommand => ({
      type: 'ImportFd', fdId: 'fd-9', tenantId: 't1', migrationId: 'm-1', sourceHostId: HOST, sourceFdId: 'fd-1', image, deviceMap,
    });
    target.refuse(importFd({ [VF1.rid]: VF2.rid }), 'DEVICE_MAP_INVALID');
    target.run({ type: 'AddDevice', hostId: 'host-b', ...ADDED, pasidBits: 20 });
    target.one(importFd({ [VF1.rid]: ADDED.rid }), 'FdImported');
  });
});

describe('host lifecycle: cordon', () => {
  it('refuses new fds and imports with HOST_CORDONED; open fds keep working and migrate out; twice is a no-op', () => {
    const h = host();
    attached(h, 'fd-1', VF1.rid);
    const { events, result } = h.run({ type: 'CordonHost', hostId: HOST });
    assert.deepEqual(events, [{ type: 'HostCordoned', data: { hostId: HOST } }]);
    assert.equal((result as { cordoned: boolean }).cordoned, true);
    assert.deepEqual(h.run({ type: 'CordonHost', hostId: HOST }).events, [], 'cordoning a cordoned host decides nothing');

    assert.deepEqual(h.refuse({ type: 'CreateFd', fdId: 'fd-2', tenantId: 't1', vmId: 'vm-2' }, 'HOST_CORDONED').details, { hostId: HOST });
    const other = host();
    attached(other, 'fd-x', VF1.rid);
    h.refuse(
      { type: 'ImportFd', fdId: 'fd-9', tenantId: 't1', migrationId: 'm-1', sourceHostId: 'other', sourceFdId: 'fd-x', image: exportFd(other.state, 'fd-x'), deviceMap: { [VF1.rid]: VF1.rid } },
      'HOST_CORDONED',
    );

    // The open fd goes on, devices come and go (maintenance), and the fd may leave.
    const fd = h.fd('fd-1');
    fd.run({ type: 'AllocIoasid' });
    h.run({ type: 'AddDevice', hostId: HOST, ...ADDED });
    fd.run({ type: 'AttachDevice', ioasid: 2, rid: ADDED.rid, enqcmd: false });
    fd.one({ type: 'StartMigration', migrationId: 'm-2', targetHostId: 'host-b' }, 'MigrationStarted');
    fd.one({ type: 'CompleteMigration', migrationId: 'm-2', targetFdId: 'fd-b' }, 'FdMigratedOut');

    const uncordoned = h.run({ type: 'UncordonHost', hostId: HOST });
    assert.deepEqual(uncordoned.events, [{ type: 'HostUncordoned', data: { hostId: HOST } }]);
    assert.equal((uncordoned.result as { cordoned: boolean }).cordoned, false);
    assert.equal('cordoned' in h.state.host!, false, 'an uncordoned host is described as one never cordoned');
    assert.deepEqual(h.run({ type: 'UncordonHost', hostId: HOST }).events, []);
    h.one({ type: 'CreateFd', fdId: 'fd-2', tenantId: 't1', vmId: 'vm-2' }, 'FdCreated');
  });
});

describe('host lifecycle: decommission', () => {
  it('only without open fds (HOST_BUSY names them); then every command is HOST_DECOMMISSIONED, the bar appends nothing', () => {
    const h = host();
    attached(h, 'fd-1', VF1.rid);
    h.run({ type: 'CreateFd', fdId: 'fd-0', tenantId: 't2', vmId: 'vm-0' });
    assert.deepEqual(h.refuse({ type: 'DecommissionHost', hostId: HOST }, 'HOST_BUSY').details, { hostId: HOST, fdIds: ['fd-0', 'fd-1'] });
    h.run({ type: 'CloseFd', fdId: 'fd-0' });
    h.run({ type: 'CloseFd', fdId: 'fd-1' });
    h.one({ type: 'DecommissionHost', hostId: HOST }, 'HostDecommissioned');
    assert.equal(hostView(h.state)!.decommissioned, true);

    const every: HostCommand[] = [
      { type: 'RegisterHost', hostId: HOST, pasidBits: 20, enqcmd: false, nestedPasidTable: false, devices: [] },
      { type: 'AddDevice', hostId: HOST, ...ADDED },
      { type: 'RemoveDevice', hostId: HOST, rid: VF1.rid },
      { type: 'CordonHost', hostId: HOST },
      { type: 'UncordonHost', hostId: HOST },
      { type: 'DecommissionHost', hostId: HOST },
      { type: 'CreateFd', fdId: 'fd-2', tenantId: 't1', vmId: 'vm-2' },
      { type: 'CloseFd', fdId: 'fd-1' },
      { type: 'ImportFd', fdId: 'fd-9', tenantId: 't1', migrationId: 'm-1', sourceHostId: 'other', sourceFdId: 'fd-x', image: { vmId: 'vm', hwidMode: null, globalMin: null, ioasids: [], kvmGuestPasids: [] }, deviceMap: {} },
    ];
    for (const command of every) assert.deepEqual(h.refuse(command, 'HOST_DECOMMISSIONED').details, { hostId: HOST });
    // A stalled migration into it is settled: nothing to bar there, and nothing appended.
    assert.deepEqual(h.run({ type: 'BarMigrationImport', migrationId: 'm-1', sourceHostId: 'other', sourceFdId: 'fd-x' }).events, []);
    assert.equal(h.log.at(-1)!.type, 'HostDecommissioned', 'the stream ends with the decommission');
  });
});

describe('host lifecycle: replay, snapshots and the hardware on its own', () => {
  it('replays and snapshots to the same state and hash', () => {
    const h = host();
    h.run({ type: 'AddDevice', hostId: HOST, ...ADDED });
    h.run({ type: 'RemoveDevice', hostId: HOST, rid: VF1.rid });
    h.run({ type: 'CordonHost', hostId: HOST });
    const clone = deserializeHostState(JSON.parse(JSON.stringify(serializeHostState(h.state))));
    assert.equal(clone.hw.hash(), h.state.hw.hash());
    assert.deepEqual(clone.host, h.state.host);
    assert.deepEqual(clone.hw.view(), h.hw());
    assert.equal(replayHardware(JSON.parse(JSON.stringify(h.log)) as HostEvent[]).hash(), h.state.hw.hash());
    // Removing and adding back the same device, at the end of the list now, is a state of its own.
    h.run({ type: 'AddDevice', hostId: HOST, ...VF1 });
    assert.deepEqual(hostView(h.state)!.devices, [SIOV, ADDED, VF1]);
    assert.equal(replayHardware(h.log).hash(), h.state.hw.hash());
  });

  it('the hardware refuses, on its own, a removal that leaves something behind, a RID twice, and a decommission with fds open', () => {
    const h = host();
    attached(h, 'fd-1', VF1.rid);
    const hw = HostHardware.fromSnapshot(JSON.parse(JSON.stringify(h.state.hw.toSnapshot())));
    const hash = hw.hash();
    const fault = (event: HostEvent) => {
      assert.throws(() => hw.apply(event), (e) => e instanceof HardwareFault);
      assert.equal(hw.hash(), hash, 'a fault changes nothing');
    };
    fault({ type: 'DeviceRemoved', data: { hostId: HOST, rid: VF1.rid } });
    fault({ type: 'DeviceRemoved', data: { hostId: HOST, rid: '0000:ff:00.0' } });
    fault({ type: 'DeviceAdded', data: { hostId: HOST, ...VF1 } });
    fault({ type: 'DeviceAdded', data: { hostId: HOST, ...ADDED, pasidBits: 21 } });
    fault({ type: 'HostDecommissioned', data: { hostId: HOST } });
    assert.deepEqual(new TestHost().register({ hostId: HOST, devices: [VF1] }).state.hw.fdsOnRid(VF1.rid), []);
    assert.deepEqual(h.state.hw.fdsOnRid(VF1.rid), ['fd-1']);
  });
});
