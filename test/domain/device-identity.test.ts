import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { HostEvent } from '../../src/model';
import { evolveAll, exportFd, fdView } from '../../src/domain';
import { initialHostState } from '../../src/composition/host-state';
import { REPO_ROOT } from '../support/deploy-files';
import { SIOV, TestHost, VF1, VF2 } from '../support/domain-host';

const B_VF1 = { rid: '0000:af:00.1', kind: 'vf' as const, pasidBits: 20 };
const B_VF2 = { rid: '0000:af:00.2', kind: 'vf' as const, pasidBits: 20 };
const B_SIOV = { rid: '0000:d8:00.0', kind: 'siov' as const, pasidBits: 20 };
const B_NARROW = { rid: '0000:af:00.7', kind: 'vf' as const, pasidBits: 4 };

function importOf(source: TestHost, deviceMap: Record<string, string>) {
  return { type: 'ImportFd' as const, fdId: 'fd-b', tenantId: 't1', migrationId: 'mig-1', sourceHostId: 'host-a', sourceFdId: 'fd-a', image: exportFd(source.state, 'fd-a'), deviceMap };
}

describe('guest-visible device identity (vdevId)', () => {
  it('is given at attach or assigned as the lowest free vdev-<n>, unique within the fd', () => {
    const h = new TestHost().register({ hostId: 'host-a', devices: [VF1, VF2, SIOV] });
    h.run({ type: 'CreateFd', fdId: 'fd-a', tenantId: 't1', vmId: 'vm-1' });
    const fd = h.fd('fd-a');
    fd.run({ type: 'SetHwidMode', mode: 'local' });
    fd.run({ type: 'AllocIoasid' });
    fd.run({ type: 'AllocIoasid' });
    assert.equal(fd.one({ type: 'AttachDevice', ioasid: 1, rid: VF1.rid, enqcmd: false }, 'DeviceAttached').data.vdevId, 'vdev-1');
    assert.equal(fd.one({ type: 'AttachDevice', ioasid: 1, rid: SIOV.rid, enqcmd: false, vdevId: 'vdev-2' }, 'DeviceAttached').data.vdevId, 'vdev-2');
    fd.refuse({ type: 'AttachDevice', ioasid: 2, rid: VF1.rid, enqcmd: false, vdevId: 'vdev-1' }, 'ALREADY_EXISTS', /vdev-1/);
    fd.refuse({ type: 'AttachDevice', ioasid: 2, rid: VF1.rid, enqcmd: false, vdevId: '-bad id' }, 'VALIDATION_FAILED');
    assert.equal(fd.one({ type: 'AttachDevice', ioasid: 2, rid: VF1.rid, enqcmd: false }, 'DeviceAttached').data.vdevId, 'vdev-3');
    fd.run({ type: 'DetachDevice', ioasid: 1, rid: VF1.rid });
    // The freed id is the lowest again.
    assert.equal(fd.one({ type: 'AttachDevice', ioasid: 2, rid: SIOV.rid, enqcmd: false }, 'DeviceAttached').data.vdevId, 'vdev-1');
    const ids = fdView(h.state, 'fd-a')!.ioasids.flatMap((io) => io.attachments.map((a) => a.vdevId));
    assert.deepEqual(ids.sort(), ['vdev-1', 'vdev-2', 'vdev-3']);
  });

  it('stays the same across a migration; the image carries each device profile', () => {
    const a = new TestHost().register({ hostId: 'host-a', devices: [VF1, VF2, SIOV] });
    a.run({ type: 'CreateFd', fdId: 'fd-a', tenantId: 't1', vmId: 'vm-1' });
    const fd = a.fd('fd-a');
    fd.run({ type: 'SetHwidMode', mode: 'local' });
    fd.run({ type: 'AllocIoasid' });
    fd.run({ type: 'AttachDevice', ioasid: 1, rid: VF1.rid, enqcmd: false, vdevId: 'nic' });
    fd.run({ type: 'AttachDevice', ioasid: 1, rid: SIOV.rid, enqcmd: false, vdevId: 'dsa' });
    const image = exportFd(a.state, 'fd-a');
    assert.deepEqual(image.ioasids[0]!.attachments, [
      { vdevId: 'nic', rid: VF1.rid, enqcmd: false, kind: 'vf', pasidBits: 20 },
      { vdevId: 'dsa', rid: SIOV.rid, enqcmd: false, kind: 'siov', pasidBits: 20 },
    ]);
    const b = new TestHost().register({ hostId: 'host-b', devices: [B_VF1, B_SIOV] });
    // The map swapped relative to the RIDs' order: the guest's names follow the map, not the order.
    b.one(importOf(a, { [SIOV.rid]: B_SIOV.rid, [VF1.rid]: B_VF1.rid }), 'FdImported');
    const view = fdView(b.state, 'fd-b')!;
    assert.deepEqual(view.ioasids[0]!.attachments.map((x) => [x.vdevId, x.rid]), [['nic', B_VF1.rid], ['dsa', B_SIOV.rid]]);
    // New attachments on the target take the lowest id the fd does not use.
    b.run({ type: 'AllocIoasid', fdId: 'fd-b' });
    assert.equal(b.one({ type: 'AttachDevice', fdId: 'fd-b', ioasid: 2, rid: B_SIOV.rid, enqcmd: false }, 'DeviceAttached').data.vdevId, 'vdev-1');
  });

  it('refuses a guest PASID table on a 20-bit vf moving to a 4-bit one: DEVICE_MAP_INVALID, nothing changes', () => {
    const a = new TestHost().register({ hostId: 'host-a', nestedPasidTable: true, devices: [VF1] });
    a.run({ type: 'CreateFd', fdId: 'fd-a', tenantId: 't1', vmId: 'vm-1' });
    a.run({ type: 'SetHwidMode', fdId: 'fd-a', mode: 'local' });
    a.run({ type: 'AllocIoasid', fdId: 'fd-a' });
    a.run({ type: 'AttachDevice', fdId: 'fd-a', ioasid: 1, rid: VF1.rid, enqcmd: false });
    a.run({ type: 'SetPasidTable', fdId: 'fd-a', ioasid: 1, gpa: '0x9000' });
    const b = new TestHost().register({ hostId: 'host-b', nestedPasidTable: true, devices: [B_NARROW, B_VF1] });
    const refused = b.refuse(importOf(a, { [VF1.rid]: B_NARROW.rid }), 'DEVICE_MAP_INVALID');
    assert.deepEqual(refused.details, { entries: [{ source: VF1.rid, target: B_NARROW.rid, problem: 'TOO_NARROW' }] });
    b.one(importOf(a, { [VF1.rid]: B_VF1.rid }), 'FdImported');
  });

  it('names every offending entry of a map that is not one-to-one, incomplete or points at unknown devices', () => {
    const a = new TestHost().register({ hostId: 'host-a', devices: [VF1, VF2] });
    a.run({ type: 'CreateFd', fdId: 'fd-a', tenantId: 't1', vmId: 'vm-1' });
    a.run({ type: 'SetHwidMode', fdId: 'fd-a', mode: 'local' });
    a.run({ type: 'AllocIoasid', fdId: 'fd-a' });
    a.run({ type: 'AttachDevice', fdId: 'fd-a', ioasid: 1, rid: VF1.rid, enqcmd: false });
    a.run({ type: 'AttachDevice', fdId: 'fd-a', ioasid: 1, rid: VF2.rid, enqcmd: false });
    const b = new TestHost().register({ hostId: 'host-b', devices: [B_VF1, B_VF2, B_SIOV] });
    // {A: X, B: X}: the decider itself refuses it, whoever calls.
    assert.deepEqual(b.refuse(importOf(a, { [VF1.rid]: B_VF1.rid, [VF2.rid]: B_VF1.rid }), 'DEVICE_MAP_INVALID').details!.entries, [
      { source: VF1.rid, target: B_VF1.rid, problem: 'TARGET_SHARED' },
      { source: VF2.rid, target: B_VF1.rid, problem: 'TARGET_SHARED' },
    ]);
    assert.deepEqual(b.refuse(importOf(a, { [VF1.rid]: B_SIOV.rid }), 'DEVICE_MAP_INVALID').details!.entries, [
      { source: VF1.rid, target: B_SIOV.rid, problem: 'KIND_MISMATCH' },
      { source: VF2.rid, problem: 'SOURCE_MISSING' },
    ]);
  });

  it('derives the vdevIds of events written before it existed, identically on every replay, and their hashes do not move', () => {
    const fixture: { events: HostEvent[] } = JSON.parse(readFileSync(join(REPO_ROOT, 'test', 'domain', 'fixtures', 'host-state-0.1.0.json'), 'utf8'));
    const attached = fixture.events.filter((e) => e.type === 'DeviceAttached');
    assert.ok(attached.length > 0 && attached.every((e) => e.data.vdevId === undefined), 'the fixture is of the earlier release');
    const once = evolveAll(initialHostState(), structuredClone(fixture.events));
    const twice = evolveAll(initialHostState(), structuredClone(fixture.events));
    for (const fdId of once.fds.keys()) {
      const view = fdView(once, fdId)!;
      assert.deepEqual(view, fdView(twice, fdId));
      const ids = view.ioasids.flatMap((io) => io.attachments.map((x) => x.vdevId));
      assert.ok(ids.every((id) => /^(vf-\d+-|siov-mdev-)/.test(id)), `derived ids: ${ids.join(', ')}`);
      assert.equal(new Set(ids).size, ids.length, 'unique within the fd');
    }
    // The hardware (what the hashes cover) does not hold vdevIds: the same events with ids give the same hash.
    const withIds = structuredClone(fixture.events).map((e, i) => (e.type === 'DeviceAttached' ? { ...e, data: { ...e.data, vdevId: `x-${i}` } } : e));
    assert.equal(evolveAll(initialHostState(), withIds).hw.hash(), once.hw.hash());
  });
});

describe('the virtual PASID of a siov attachment in local mode', () => {
  const NARROW_SIOV = { rid: '0000:5e:00.4', kind: 'siov' as const, pasidBits: 4 };

  it('fits the device width, not only the host width: at set-hwid, at attach and at import', () => {
    const h = new TestHost().register({ hostId: 'host-a', devices: [VF1, SIOV, NARROW_SIOV] });
    h.run({ type: 'CreateFd', fdId: 'fd-a', tenantId: 't1', vmId: 'vm-1' });
    const fd = h.fd('fd-a');
    fd.run({ type: 'SetHwidMode', mode: 'local' });
    fd.run({ type: 'AllocIoasid' });
    fd.run({ type: 'AttachDevice', ioasid: 1, rid: NARROW_SIOV.rid, enqcmd: false });
    const refused = fd.refuse({ type: 'SetHwid', ioasid: 1, pasid: 16 }, 'PASID_WIDTH_EXCEEDED', /virtual PASID 16/);
    assert.deepEqual(refused.details, { rid: NARROW_SIOV.rid, pasid: 16, pasidBits: 4 });
    fd.one({ type: 'SetHwid', ioasid: 1, pasid: 15 }, 'HwidSet');

    fd.run({ type: 'AllocIoasid' });
    fd.run({ type: 'AttachDevice', ioasid: 2, rid: SIOV.rid, enqcmd: false });
    fd.one({ type: 'SetHwid', ioasid: 2, pasid: 300 }, 'HwidSet');
    fd.refuse({ type: 'AttachDevice', ioasid: 2, rid: NARROW_SIOV.rid, enqcmd: false }, 'PASID_WIDTH_EXCEEDED', /virtual PASID 300/);
    fd.one({ type: 'AttachDevice', ioasid: 2, rid: SIOV.rid, enqcmd: false }, 'DeviceAttached');
  });
});
