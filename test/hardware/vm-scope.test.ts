import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { HostEvent } from '../../src/model';
import { renderHardware } from '../../src/cli/render-hardware';
import { HardwareFault, HostHardware, parseVmViewKey, replayHardware, type HardwareInvariant, type StructuralFault } from '../../src/hardware';
import { canonicalText } from '../../src/hardware/canonical-form';
import { countersOf, stateOf } from '../support/hardware-internals';

const VF_A = '0000:3b:00.1';
const VF_B = '0000:3b:00.2';
const NONE = { pasids: [], entries: [], contexts: [], kvmGuestPasids: [], mdevs: [] };

const host: HostEvent = {
  type: 'HostRegistered',
  data: { hostId: 'h', pasidBits: 8, enqcmd: true, nestedPasidTable: false, devices: [{ rid: VF_A, kind: 'vf', pasidBits: 8 }, { rid: VF_B, kind: 'vf', pasidBits: 8 }] },
};

/** An ENQCMD VM in global mode: guest PASID 5 -> global `globalPasid`, mapped in the VM's CPU PASID table. */
function enqcmdVm(fdId: string, tenantId: string, vmId: string, domainId: number, rid: string, globalPasid: number): HostEvent[] {
  return [
    { type: 'FdCreated', data: { fdId, tenantId, vmId, domainId } },
    { type: 'HwidModeSet', data: { fdId, mode: 'global' } },
    { type: 'GlobalMinSet', data: { fdId, globalMin: 64 } },
    { type: 'IoasidAllocated', data: { fdId, ioasid: 1 } },
    { type: 'DeviceAttached', data: { fdId, ioasid: 1, rid, enqcmd: true, programmed: [] } },
    { type: 'HwidSet', data: { fdId, ioasid: 1, pasid: 5, globalPasid } },
    { type: 'KvmPasidMapped', data: { fdId, vmId, guestPasid: 5, hostPasid: globalPasid } },
  ];
}

const closeA: HostEvent = { type: 'FdClosed', data: { fdId: 'fd-a', released: { ...NONE, pasids: [64], kvmGuestPasids: [5] } } };

/** Tenants ta and tb each run a VM called vm-1 on host h, both mapping guest PASID 5. */
function twins(): HostEvent[] {
  return [host, ...enqcmdVm('fd-a', 'ta', 'vm-1', 1, VF_A, 64), ...enqcmdVm('fd-b', 'tb', 'vm-1', 2, VF_B, 65)];
}

function faults(hw: HostHardware, event: HostEvent, rule: HardwareInvariant | StructuralFault): void {
  const before = { hash: hw.hash(), view: hw.view(), counters: countersOf(hw) };
  assert.throws(() => hw.apply(event), (e) => e instanceof HardwareFault && (e.invariant ?? e.structural) === rule);
  assert.deepEqual({ hash: hw.hash(), view: hw.view(), counters: countersOf(hw) }, before, 'a fault changes nothing');
}

describe('VMs are per tenant: two tenants may use one vmId on a host', () => {
  it('keeps one CPU PASID table per VM, named <tenantId>/<vmId> in the view while the vmId is shared', () => {
    const hw = replayHardware(twins());
    assert.deepEqual(hw.view().vms, { 'ta/vm-1': { 5: 64 }, 'tb/vm-1': { 5: 65 } });
    assert.equal(hw.fdOfVm('ta', 'vm-1'), 'fd-a');
    assert.equal(hw.fdOfVm('tb', 'vm-1'), 'fd-b');
    assert.equal(hw.fdOfVm('tc', 'vm-1'), undefined);
    assert.deepEqual(hw.kvmMappingsOf('fd-a'), new Map([[5, 64]]));
    assert.deepEqual(hw.kvmMappingsOf('fd-b'), new Map([[5, 65]]));
    const canonical = JSON.parse(canonicalText(stateOf(hw))) as { vms: unknown };
    assert.deepEqual(canonical.vms, [['ta/vm-1', [[5, 64]]], ['tb/vm-1', [[5, 65]]]]);
    assert.deepEqual(parseVmViewKey('ta/vm-1'), { tenantId: 'ta', vmId: 'vm-1' });
    assert.deepEqual(parseVmViewKey('vm-1'), { vmId: 'vm-1' });
  });

  it("refuses a second fd for the same tenant's VM, and lets no fd reach another tenant's table", () => {
    const hw = replayHardware(twins());
    faults(hw, { type: 'FdCreated', data: { fdId: 'fd-c', tenantId: 'ta', vmId: 'vm-1', domainId: 3 } }, 'conflict');
    // fd-b maps only to what fd-b holds, into fd-b's table: A's global PASID 64 is not B's to point at.
    faults(hw, { type: 'KvmPasidMapped', data: { fdId: 'fd-b', vmId: 'vm-1', guestPasid: 5, hostPasid: 64 } }, 'I6');
    faults(hw, { type: 'KvmPasidUnmapped', data: { fdId: 'fd-b', vmId: 'vm-1', guestPasid: 7 } }, 'I9');
    // Closing B releases B's mapping only; A's table is untouched.
    hw.apply({ type: 'FdClosed', data: { fdId: 'fd-b', released: { ...NONE, pasids: [65], kvmGuestPasids: [5] } } });
    assert.deepEqual(hw.view().vms, { 'vm-1': { 5: 64 } });
    assert.deepEqual(hw.kvmMappingsOf('fd-a'), new Map([[5, 64]]));
  });

  it('names the VM by its bare vmId again once one tenant alone uses it, with the hash of a host that never shared it', () => {
    const hw = replayHardware([...twins(), closeA]);
    assert.deepEqual(hw.view().vms, { 'vm-1': { 5: 65 } });
    const never = replayHardware([host, ...enqcmdVm('fd-b', 'tb', 'vm-1', 2, VF_B, 65)]);
    assert.equal(hw.hash(), never.hash());
    // An open fd of the other tenant is enough to qualify the key, even without a table of its own.
    hw.apply({ type: 'FdCreated', data: { fdId: 'fd-a2', tenantId: 'ta', vmId: 'vm-1', domainId: 3 } });
    assert.deepEqual(hw.view().vms, { 'tb/vm-1': { 5: 65 } });
  });

  it('round-trips the shared vmId through a snapshot, and hashes the state, not the order of the tenants', () => {
    const hw = replayHardware(twins());
    const loaded = HostHardware.fromSnapshot(JSON.parse(JSON.stringify(hw.toSnapshot())));
    assert.equal(loaded.hash(), hw.hash());
    assert.deepEqual(loaded.view(), hw.view());
    assert.deepEqual(countersOf(loaded), countersOf(hw));
    loaded.apply(closeA);
    hw.apply(closeA);
    assert.equal(loaded.hash(), hw.hash());
    const bFirst = replayHardware([host, ...enqcmdVm('fd-b', 'tb', 'vm-1', 2, VF_B, 65), ...enqcmdVm('fd-a', 'ta', 'vm-1', 1, VF_A, 64)]);
    assert.equal(bFirst.hash(), replayHardware(twins()).hash());
  });

  it('renders each VM of a shared vmId with its tenant', () => {
    const view = replayHardware(twins()).view();
    const lines = renderHardware({ view, hostId: 'h', source: 'test', startedAfter: 0 });
    assert.ok(lines.includes('  VM vm-1 (tenant ta)'), lines.join('\n'));
    assert.ok(lines.includes('  VM vm-1 (tenant tb)'), lines.join('\n'));
    assert.ok(lines.some((l) => l.startsWith('Summary:') && l.includes('2 VMs with 2 CPU PASID mappings')), lines.join('\n'));
    const alone = renderHardware({ view: replayHardware([...twins(), closeA]).view(), hostId: 'h', source: 'test', startedAfter: 0 });
    assert.ok(alone.includes('  VM vm-1'), alone.join('\n'));
  });
});
