import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { HostEvent, ProgrammedEntry } from '../../src/model';
import {
  HARDWARE_INVARIANTS,
  HardwareFault,
  HostHardware,
  replayHardware,
  STRUCTURAL_FAULTS,
  type HardwareInvariant,
  type StructuralFault,
} from '../../src/hardware';

const VF = '0000:3b:00.1';
const NARROW_VF = '0000:3b:00.2';
const SIOV = '0000:5e:00.0';
const NONE = { pasids: [], entries: [], contexts: [], kvmGuestPasids: [], mdevs: [] };

function entry(rid: string, pasid: number, origin: ProgrammedEntry['origin'], ioasid = 1): ProgrammedEntry {
  return { rid, pasid, origin, fdId: 'fd-g', ioasid, firstStageGpa: '0x1000', domainId: 1 };
}

/**
 * Hand-made events, no decider: fd-g in global mode (split 64; ioasid 1 on VF with hwid 5 -> 64,
 * its page table bound; ioasid 2 on a 4-bit vf) and fd-l in local mode with a bare ioasid 1.
 */
function host(): HostHardware {
  return replayHardware([
    { type: 'HostRegistered', data: { hostId: 'h', pasidBits: 8, enqcmd: true, nestedPasidTable: true, devices: [
      { rid: VF, kind: 'vf', pasidBits: 8 }, { rid: NARROW_VF, kind: 'vf', pasidBits: 4 }, { rid: SIOV, kind: 'siov', pasidBits: 8 },
    ] } },
    { type: 'FdCreated', data: { fdId: 'fd-g', tenantId: 't', vmId: 'vm-1', domainId: 1 } },
    { type: 'HwidModeSet', data: { fdId: 'fd-g', mode: 'global' } },
    { type: 'GlobalMinSet', data: { fdId: 'fd-g', globalMin: 64 } },
    { type: 'IoasidAllocated', data: { fdId: 'fd-g', ioasid: 1 } },
    { type: 'DeviceAttached', data: { fdId: 'fd-g', ioasid: 1, rid: VF, enqcmd: false, programmed: [] } },
    { type: 'HwidSet', data: { fdId: 'fd-g', ioasid: 1, pasid: 5, globalPasid: 64 } },
    { type: 'PgtableBound', data: { fdId: 'fd-g', ioasid: 1, gpa: '0x1000', programmed: [entry(VF, 5, 'local'), entry(VF, 64, 'global')] } },
    { type: 'IoasidAllocated', data: { fdId: 'fd-g', ioasid: 2 } },
    { type: 'DeviceAttached', data: { fdId: 'fd-g', ioasid: 2, rid: NARROW_VF, enqcmd: false, programmed: [] } },
    { type: 'FdCreated', data: { fdId: 'fd-l', tenantId: 't', vmId: 'vm-2', domainId: 2 } },
    { type: 'HwidModeSet', data: { fdId: 'fd-l', mode: 'local' } },
    { type: 'IoasidAllocated', data: { fdId: 'fd-l', ioasid: 1 } },
  ]);
}

/** The fault `event` raises on `hw`, which it must leave exactly as it was. */
function faultOf(hw: HostHardware, event: HostEvent): HardwareFault {
  const before = { hash: hw.hash(), version: hw.version, view: hw.view() };
  let fault: unknown;
  try {
    hw.apply(event);
  } catch (e) {
    fault = e;
  }
  assert.ok(fault instanceof HardwareFault, `${event.type} should fault, got ${String(fault)}`);
  assert.deepEqual({ hash: hw.hash(), version: hw.version, view: hw.view() }, before, 'a fault changes nothing');
  return fault;
}

/** One event per invariant, each breaking that invariant alone. */
const BREAKS: Record<HardwareInvariant, HostEvent> = {
  // PASID 64 is already fd-g's global PASID.
  I1: { type: 'HwidSet', data: { fdId: 'fd-g', ioasid: 2, pasid: 6, globalPasid: 64 } },
  // VF's PASID 5 already holds fd-g ioasid 1's entry.
  I2: { type: 'PgtableBound', data: { fdId: 'fd-g', ioasid: 1, gpa: '0x1000', programmed: [entry(VF, 5, 'local')] } },
  // VF is fd-g's: a vf RID serves one fd.
  I3: { type: 'DeviceAttached', data: { fdId: 'fd-l', ioasid: 1, rid: VF, enqcmd: false, programmed: [] } },
  // PASID 16 is over the 4-bit width of NARROW_VF.
  I4: { type: 'PgtableBound', data: { fdId: 'fd-g', ioasid: 2, gpa: '0x2000', programmed: [entry(NARROW_VF, 16, 'local', 2)] } },
  // A split on a local-mode fd.
  I5: { type: 'GlobalMinSet', data: { fdId: 'fd-l', globalMin: 32 } },
  // fd-g holds 64 for guest PASID 5, not 65.
  I6: { type: 'KvmPasidMapped', data: { fdId: 'fd-g', vmId: 'vm-1', guestPasid: 5, hostPasid: 65 } },
  // enqcmd in local mode.
  I7: { type: 'DeviceAttached', data: { fdId: 'fd-l', ioasid: 1, rid: SIOV, enqcmd: true, mdevId: 'mdev-9', programmed: [] } },
  // Closing fd-g while releasing nothing of what it holds.
  I9: { type: 'FdClosed', data: { fdId: 'fd-g', released: NONE } },
};

const STRUCTURAL: Record<Exclude<StructuralFault, 'malformed-snapshot' | 'unknown-host'>, HostEvent> = {
  'unknown-fd': { type: 'IoasidAllocated', data: { fdId: 'fd-404', ioasid: 1 } },
  'unknown-ioasid': { type: 'IoasidFreed', data: { fdId: 'fd-g', ioasid: 9, released: NONE } },
  'unknown-rid': { type: 'DeviceAttached', data: { fdId: 'fd-l', ioasid: 1, rid: '0000:00:00.9', enqcmd: false, programmed: [] } },
  conflict: { type: 'FdCreated', data: { fdId: 'fd-g', tenantId: 't', vmId: 'vm-3', domainId: 3 } },
  'malformed-event': { type: 'IoasidAllocated', data: { fdId: 'fd-l', ioasid: 0 } },
};

describe('hardware faults, typed by invariant', () => {
  it('each invariant the hardware checks is raised by the hardware itself, named, with nothing changed', () => {
    assert.deepEqual(Object.keys(BREAKS).sort(), [...HARDWARE_INVARIANTS].sort(), 'one case per invariant the hardware checks');
    for (const [invariant, event] of Object.entries(BREAKS)) {
      const fault = faultOf(host(), event);
      assert.equal(fault.invariant, invariant, `${invariant}: ${fault.message}`);
      assert.equal(fault.structural, undefined);
      assert.match(fault.message, new RegExp(`^${invariant}: `));
    }
  });

  it('a structural fault is a kind of its own, never an invariant', () => {
    for (const [kind, event] of Object.entries(STRUCTURAL)) {
      const fault = faultOf(host(), event);
      assert.deepEqual([fault.structural, fault.invariant], [kind, undefined], fault.message);
    }
    const empty = faultOf(HostHardware.empty(), { type: 'FdCreated', data: { fdId: 'fd-1', tenantId: 't', vmId: 'vm-1', domainId: 1 } });
    assert.deepEqual([empty.structural, empty.invariant], ['unknown-host', undefined]);
    assert.throws(
      () => HostHardware.fromSnapshot({ ...host().toSnapshot(), format: 9 } as never),
      (e) => e instanceof HardwareFault && e.structural === 'malformed-snapshot' && e.invariant === undefined,
    );
    assert.deepEqual([...Object.keys(STRUCTURAL), 'unknown-host', 'malformed-snapshot'].sort(), [...STRUCTURAL_FAULTS].sort());
  });
});
