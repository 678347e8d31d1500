import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { HostEvent, ProgrammedEntry } from '../../src/model';
import { HardwareFault, HostHardware, replayHardware, type HardwareInvariant, type HardwareSnapshotV1, type HardwareSnapshotV2, type StructuralFault } from '../../src/hardware';
import { canonicalText } from '../../src/hardware/canonical-form';
import { countersOf, stateOf } from '../support/hardware-internals';

const VF = '0000:3b:00.1';
const VF2 = '0000:3b:00.2';
const SIOV = '0000:5e:00.0';
const NONE = { pasids: [], entries: [], contexts: [], kvmGuestPasids: [], mdevs: [] };

function entry(rid: string, pasid: number, origin: ProgrammedEntry['origin'], over: Partial<ProgrammedEntry> = {}): ProgrammedEntry {
  return { rid, pasid, origin, fdId: 'fd-1', ioasid: 1, firstStageGpa: '0x1000', domainId: 1, ...over };
}

/** A global-mode fd with a vf and a siov attached to ioasid 1, hwid 5 -> global 64, page table bound. */
function setup(): HostEvent[] {
  return [
    { type: 'HostRegistered', data: { hostId: 'h', pasidBits: 8, enqcmd: true, nestedPasidTable: true, devices: [
      { rid: VF, kind: 'vf', pasidBits: 8 }, { rid: VF2, kind: 'vf', pasidBits: 6 }, { rid: SIOV, kind: 'siov', pasidBits: 8 },
    ] } },
    { type: 'FdCreated', data: { fdId: 'fd-1', tenantId: 't', vmId: 'vm-1', domainId: 1 } },
    { type: 'HwidModeSet', data: { fdId: 'fd-1', mode: 'global' } },
    { type: 'GlobalMinSet', data: { fdId: 'fd-1', globalMin: 64 } },
    { type: 'IoasidAllocated', data: { fdId: 'fd-1', ioasid: 1 } },
    { type: 'DeviceAttached', data: { fdId: 'fd-1', ioasid: 1, rid: VF, enqcmd: false, programmed: [] } },
    { type: 'DeviceAttached', data: { fdId: 'fd-1', ioasid: 1, rid: SIOV, enqcmd: false, mdevId: 'mdev-1', programmed: [] } },
    { type: 'HwidSet', data: { fdId: 'fd-1', ioasid: 1, pasid: 5, globalPasid: 64 } },
    { type: 'PgtableBound', data: { fdId: 'fd-1', ioasid: 1, gpa: '0x1000', programmed: [entry(VF, 5, 'local'), entry(VF, 64, 'global'), entry(SIOV, 64, 'global')] } },
    { type: 'KvmPasidMapped', data: { fdId: 'fd-1', vmId: 'vm-1', guestPasid: 5, hostPasid: 64 } },
  ];
}

/** setup()'s state as the release before per-tenant VM ids wrote it (hardware snapshot format 1). */
const FORMAT_1_SNAPSHOT: HardwareSnapshotV1 = {
  format: 1, version: 10,
  host: { hostId: 'h', pasidBits: 8, enqcmd: true, nestedPasidTable: true, devices: [{ rid: VF, kind: 'vf', pasidBits: 8 }, { rid: VF2, kind: 'vf', pasidBits: 6 }, { rid: SIOV, kind: 'siov', pasidBits: 8 }] },
  nextSlot: 2,
  fds: [{ fdId: 'fd-1', tenantId: 't', vmId: 'vm-1', domainId: 1, slot: 1, mode: 'global', globalMin: 64, ioasids: [1, 5, 64], attached: [[1, VF, 1], [1, SIOV, 1]] }],
  pasids: [64, 1, 1, 0],
  rids: [
    { rid: VF, context: { table: 'host' }, entries: [[5, 'fd-1', 1, 'local', '0x1000', 1], [64, 'fd-1', 1, 'global', '0x1000', 1]], vfOwner: { fdId: 'fd-1', attachments: 1 }, mdevs: [] },
    { rid: VF2, context: { table: 'host' }, entries: [], vfOwner: null, mdevs: [] },
    { rid: SIOV, context: { table: 'host' }, entries: [[64, 'fd-1', 1, 'global', '0x1000', 1]], vfOwner: null, mdevs: [['mdev-1', 'fd-1', 1]] },
  ],
  vms: [['vm-1', [[5, 64]]]],
};

/** setup()'s state exactly as release 0.1.0 wrote it (hardware snapshot format 2: the fd's hwid mode as `mode`). */
const FORMAT_2_SNAPSHOT: HardwareSnapshotV2 = JSON.parse(
  '{"format":2,"version":10,"host":{"hostId":"h","pasidBits":8,"enqcmd":true,"nestedPasidTable":true,"devices":[{"rid":"0000:3b:00.1","kind":"vf","pasidBits":8},{"rid":"0000:3b:00.2","kind":"vf","pasidBits":6},{"rid":"0000:5e:00.0","kind":"siov","pasidBits":8}]},' +
    '"nextSlot":2,"fds":[{"fdId":"fd-1","tenantId":"t","vmId":"vm-1","domainId":1,"slot":1,"mode":"global","globalMin":64,"ioasids":[1,5,64],"attached":[[1,"0000:3b:00.1",1],[1,"0000:5e:00.0",1]]}],"pasids":[64,1,1,0],' +
    '"rids":[{"rid":"0000:3b:00.1","context":{"table":"host"},"entries":[[5,"fd-1",1,"local","0x1000",1],[64,"fd-1",1,"global","0x1000",1]],"vfOwner":{"fdId":"fd-1","attachments":1},"mdevs":[]},' +
    '{"rid":"0000:3b:00.2","context":{"table":"host"},"entries":[],"vfOwner":null,"mdevs":[]},{"rid":"0000:5e:00.0","context":{"table":"host"},"entries":[[64,"fd-1",1,"global","0x1000",1]],"vfOwner":null,"mdevs":[["mdev-1","fd-1",1]]}],' +
    '"kvm":[["fd-1",[[5,64]]]]}',
);

/** Loads an older release's snapshot of setup() and checks it is the replayed state, written back in the current format. */
function loadsAsReplayed(snapshot: HardwareSnapshotV1 | HardwareSnapshotV2): { loaded: HostHardware; replayed: HostHardware } {
  const loaded = HostHardware.fromSnapshot(JSON.parse(JSON.stringify(snapshot)));
  const replayed = replayHardware(setup());
  assert.equal(loaded.hash(), replayed.hash());
  assert.deepEqual(loaded.view(), replayed.view());
  assert.deepEqual(countersOf(loaded), countersOf(replayed));
  assert.deepEqual(loaded.toSnapshot(), replayed.toSnapshot());
  assert.equal(loaded.toSnapshot().format, 3);
  return { loaded, replayed };
}

function faults(hw: HostHardware, event: HostEvent, rule: HardwareInvariant | StructuralFault | RegExp): void {
  // The hash covers the whole state (owners, mdevs, KVM tables); the counters kept beside it are compared too.
  const before = { hash: hw.hash(), version: hw.version, view: hw.view(), counters: countersOf(hw) };
  assert.throws(
    () => hw.apply(event),
    (e) => e instanceof HardwareFault && (typeof rule === 'string' ? (e.invariant ?? e.structural) === rule : rule.test(e.message)),
  );
  assert.deepEqual({ hash: hw.hash(), version: hw.version, view: hw.view(), counters: countersOf(hw) }, before, 'a fault leaves the hardware unchanged');
}

describe('HostHardware', () => {
  it('shows the API.md hardware view', () => {
    const hw = replayHardware(setup());
    const view = hw.view();
    assert.equal(view.hostId, 'h');
    assert.equal(view.version, 10);
    assert.match(view.hash, /^[0-9a-f]{64}$/);
    assert.deepEqual(view.rids[VF], {
      context: { table: 'host' },
      pasids: {
        5: { fdId: 'fd-1', ioasid: 1, origin: 'local', pgtt: 'nested', firstStageGpa: '0x1000', domainId: 1 },
        64: { fdId: 'fd-1', ioasid: 1, origin: 'global', pgtt: 'nested', firstStageGpa: '0x1000', domainId: 1 },
      },
    });
    assert.deepEqual(view.vms, { 'vm-1': { 5: 64 } });
    assert.deepEqual(view.allocator, { used: 1, free: 254, reserved: [] });
    assert.equal(hw.pasidsInUse(), 1);
  });

  it('faults instead of overwriting, and rolls the whole event back', () => {
    const hw = replayHardware(setup());
    // I1: allocating a used PASID (the second ioasid's hwid claims 64 again).
    hw.apply({ type: 'IoasidAllocated', data: { fdId: 'fd-1', ioasid: 2 } });
    hw.apply({ type: 'DeviceAttached', data: { fdId: 'fd-1', ioasid: 2, rid: VF2, enqcmd: false, programmed: [] } });
    faults(hw, { type: 'HwidSet', data: { fdId: 'fd-1', ioasid: 2, pasid: 6, globalPasid: 64 } }, 'I1');
    faults(hw, { type: 'HwidSet', data: { fdId: 'fd-1', ioasid: 2, pasid: 6, globalPasid: 256 } }, 'I1');
    // I5: local PASID not below the split, or a local PASID with two globals.
    faults(hw, { type: 'HwidSet', data: { fdId: 'fd-1', ioasid: 2, pasid: 64, globalPasid: 65 } }, 'I5');
    faults(hw, { type: 'HwidSet', data: { fdId: 'fd-1', ioasid: 2, pasid: 5, globalPasid: 65 } }, 'I5');
    hw.apply({ type: 'HwidSet', data: { fdId: 'fd-1', ioasid: 2, pasid: 6, globalPasid: 65 } });
    // I4: 65 is over VF2's 6-bit width. The first entry of the event is fine and must be undone too.
    faults(hw, { type: 'PgtableBound', data: { fdId: 'fd-1', ioasid: 2, gpa: '0x2000', programmed: [entry(VF2, 6, 'local', { ioasid: 2 }), entry(VF2, 65, 'global', { ioasid: 2 })] } }, 'I4');
    // I2: programming over a present entry.
    faults(hw, { type: 'PgtableBound', data: { fdId: 'fd-1', ioasid: 1, gpa: '0x2000', programmed: [entry(VF, 5, 'local')] } }, 'I2');
    // I3: a guest-chosen PASID on a siov RID; a vf owned by another fd.
    faults(hw, { type: 'PgtableBound', data: { fdId: 'fd-1', ioasid: 2, gpa: '0x2000', programmed: [entry(SIOV, 6, 'local', { ioasid: 2 })] } }, /not attached|I3/);
    hw.apply({ type: 'FdCreated', data: { fdId: 'fd-2', tenantId: 't', vmId: 'vm-2', domainId: 2 } });
    hw.apply({ type: 'HwidModeSet', data: { fdId: 'fd-2', mode: 'global' } });
    hw.apply({ type: 'IoasidAllocated', data: { fdId: 'fd-2', ioasid: 1 } });
    faults(hw, { type: 'DeviceAttached', data: { fdId: 'fd-2', ioasid: 1, rid: VF, enqcmd: false, programmed: [] } }, 'I3');
    // I6: a KVM mapping to a PASID the VM's fd does not hold.
    faults(hw, { type: 'KvmPasidMapped', data: { fdId: 'fd-1', vmId: 'vm-1', guestPasid: 6, hostPasid: 64 } }, 'I6');
    faults(hw, { type: 'KvmPasidMapped', data: { fdId: 'fd-1', vmId: 'vm-2', guestPasid: 6, hostPasid: 65 } }, 'I6');
    faults(hw, { type: 'KvmPasidMapped', data: { fdId: 'fd-1', vmId: 'vm-1', guestPasid: 5, hostPasid: 64 } }, 'I6');
    // I7: enqcmd attachment outside global mode.
    hw.apply({ type: 'FdCreated', data: { fdId: 'fd-3', tenantId: 't', vmId: 'vm-3', domainId: 3 } });
    hw.apply({ type: 'HwidModeSet', data: { fdId: 'fd-3', mode: 'local' } });
    hw.apply({ type: 'IoasidAllocated', data: { fdId: 'fd-3', ioasid: 1 } });
    faults(hw, { type: 'DeviceAttached', data: { fdId: 'fd-3', ioasid: 1, rid: SIOV, enqcmd: true, mdevId: 'mdev-7', programmed: [] } }, 'I7');
    // An mdev id used twice; an unknown fd.
    faults(hw, { type: 'DeviceAttached', data: { fdId: 'fd-3', ioasid: 1, rid: SIOV, enqcmd: false, mdevId: 'mdev-1', programmed: [] } }, 'I3');
    faults(hw, { type: 'IoasidAllocated', data: { fdId: 'fd-404', ioasid: 1 } }, 'unknown-fd');
    // The PASID is still mapped by KVM: releasing it must fault (I6), and so must freeing with devices attached (I9).
    faults(hw, { type: 'IoasidFreed', data: { fdId: 'fd-1', ioasid: 1, released: { ...NONE, pasids: [64] } } }, /I6|I9/);
  });

  it('faults when close, free or detach would leave something behind (I9)', () => {
    const hw = replayHardware(setup());
    const all = { pasids: [64], entries: [{ rid: VF, pasid: 5 }, { rid: VF, pasid: 64 }, { rid: SIOV, pasid: 64 }], contexts: [], kvmGuestPasids: [5], mdevs: ['mdev-1'] };
    faults(hw, { type: 'FdClosed', data: { fdId: 'fd-1', released: { ...all, entries: all.entries.slice(1) } } }, 'I9');
    faults(hw, { type: 'FdClosed', data: { fdId: 'fd-1', released: { ...all, kvmGuestPasids: [] } } }, /I6|I9/);
    faults(hw, { type: 'FdClosed', data: { fdId: 'fd-1', released: { ...all, mdevs: [] } } }, 'I9');
    faults(hw, { type: 'DeviceDetached', data: { fdId: 'fd-1', ioasid: 1, rid: VF, released: NONE } }, 'I9');
    faults(hw, { type: 'DeviceDetached', data: { fdId: 'fd-1', ioasid: 1, rid: SIOV, mdevId: 'mdev-1', released: { ...NONE, entries: [{ rid: SIOV, pasid: 64 }] } } }, 'I9');
    faults(hw, { type: 'PgtableUnbound', data: { fdId: 'fd-1', ioasid: 1, cleared: [{ rid: VF, pasid: 5 }] } }, 'I9');
    hw.apply({ type: 'FdClosed', data: { fdId: 'fd-1', released: all } });
    const view = hw.view();
    assert.deepEqual(view.allocator.used, 0);
    assert.deepEqual(view.vms, {});
    for (const rid of [VF, VF2, SIOV]) assert.deepEqual(view.rids[rid], { context: { table: 'host' }, pasids: {} });
    assert.equal(hw.hash(), replayHardware(setup().slice(0, 1)).hash(), 'closing returns to the empty host');
  });

  it('hashes the state, not the way it was reached', () => {
    const events = setup();
    const a = replayHardware(events);
    // Same state through a different order of independent steps.
    const reordered = [...events];
    [reordered[5], reordered[6]] = [reordered[6]!, reordered[5]!];
    const b = replayHardware(reordered);
    assert.equal(a.hash(), b.hash());
    // Incremental application and a snapshot taken half-way agree with a full replay.
    const half = replayHardware(events.slice(0, 6));
    const resumed = HostHardware.fromSnapshot(JSON.parse(JSON.stringify(half.toSnapshot())));
    for (const e of events.slice(6)) resumed.apply(e);
    assert.equal(resumed.hash(), a.hash());
    assert.equal(resumed.version, a.version);
    assert.deepEqual(resumed.view(), a.view());
    // And a different state hashes differently.
    const c = replayHardware(events.slice(0, -1));
    assert.notEqual(c.hash(), a.hash());
  });

  it('writes a canonical form that is sorted JSON, whatever the insertion order', () => {
    const events = setup();
    const a = replayHardware(events);
    // Two fds created in the opposite order, each with entries programmed in the opposite order.
    const extra = (order: number[]): HostEvent[] =>
      order.flatMap((n) => [
        { type: 'FdCreated', data: { fdId: `fd-x${n}`, tenantId: 't', vmId: `vm-x${n}`, domainId: 10 + n } },
        { type: 'HwidModeSet', data: { fdId: `fd-x${n}`, mode: 'local' } },
        { type: 'IoasidAllocated', data: { fdId: `fd-x${n}`, ioasid: 1 } },
      ] as HostEvent[]);
    const b = replayHardware([...events, ...extra([1, 2])]);
    const c = replayHardware([...events, ...extra([2, 1])]);
    assert.equal(canonicalText(stateOf(b)), canonicalText(stateOf(c)));
    assert.equal(b.hash(), c.hash());
    const parsed = JSON.parse(canonicalText(stateOf(b))) as { fds: Array<[string]>; pasids: unknown[][] };
    assert.deepEqual(parsed.fds.map((f) => f[0]), ['fd-1', 'fd-x1', 'fd-x2']);
    assert.deepEqual(parsed.pasids, [[64, 'fd-1', 1, 'global']]);
    assert.notEqual(a.hash(), b.hash());
  });

  it('puts a RID on a guest PASID table only without entries, and back', () => {
    const hw = HostHardware.empty();
    for (const e of setup().slice(0, 2)) hw.apply(e);
    hw.apply({ type: 'HwidModeSet', data: { fdId: 'fd-1', mode: 'local' } });
    hw.apply({ type: 'IoasidAllocated', data: { fdId: 'fd-1', ioasid: 1 } });
    hw.apply({ type: 'DeviceAttached', data: { fdId: 'fd-1', ioasid: 1, rid: VF, enqcmd: false, programmed: [] } });
    faults(hw, { type: 'PasidTableSet', data: { fdId: 'fd-1', ioasid: 1, gpa: '0x9000', contexts: [SIOV] } }, 'I3');
    hw.apply({ type: 'PasidTableSet', data: { fdId: 'fd-1', ioasid: 1, gpa: '0x9000', contexts: [VF] } });
    assert.deepEqual(hw.view().rids[VF]!.context, { table: 'guest', gpa: '0x9000' });
    faults(hw, { type: 'DeviceDetached', data: { fdId: 'fd-1', ioasid: 1, rid: VF, released: NONE } }, 'I9');
    hw.apply({ type: 'DeviceDetached', data: { fdId: 'fd-1', ioasid: 1, rid: VF, released: { ...NONE, contexts: [VF] } } });
    assert.deepEqual(hw.view().rids[VF]!.context, { table: 'host' });
  });

  it('hashes a host whose vmIds are each used by one tenant exactly as before VM ids were scoped per tenant', () => {
    // Pinned: the hashes the release before the change gave these states (projections and verify compare them).
    assert.equal(replayHardware(setup()).hash(), 'f38c15aaf64b15b543ecb3b99333ec384bdf5d165e95140a7ad46fbe642f27f5');
    assert.equal(replayHardware(setup().slice(0, -1)).hash(), '299799939001f45dbeb64005a35481869c09913742442f14c7e7d4d02ffe1ae8');
  });

  it('loads a format 2 snapshot (release 0.1.0, `mode`) into the same state, and writes format 3 (`hwidMode`)', () => {
    const { loaded } = loadsAsReplayed(FORMAT_2_SNAPSHOT);
    assert.deepEqual(loaded.toSnapshot().fds.map((f) => [f.fdId, f.hwidMode]), [['fd-1', 'global']]);
    assert.equal(stateOf(loaded).fds.get('fd-1')!.hwidMode, 'global');
  });

  it('loads a format 1 snapshot (VM tables by vmId) into the same state, and writes format 3', () => {
    const { loaded, replayed } = loadsAsReplayed(FORMAT_1_SNAPSHOT);
    assert.deepEqual(loaded.kvmMappingsOf('fd-1'), new Map([[5, 64]]));
    // It keeps working: the KVM mapping it loaded is released like one applied live.
    const close: HostEvent = { type: 'FdClosed', data: { fdId: 'fd-1', released: { pasids: [64], entries: [{ rid: VF, pasid: 5 }, { rid: VF, pasid: 64 }, { rid: SIOV, pasid: 64 }], contexts: [], kvmGuestPasids: [5], mdevs: ['mdev-1'] } } };
    loaded.apply(close);
    replayed.apply(close);
    assert.equal(loaded.hash(), replayed.hash());
    assert.throws(() => HostHardware.fromSnapshot({ ...FORMAT_1_SNAPSHOT, format: 4 } as never), (e) => e instanceof HardwareFault && e.structural === 'malformed-snapshot' && e.invariant === undefined);
  });

  it('loads a snapshot listing an fd\'s ioasids in insertion order (as releases before the typed-array tables wrote them) into the same state, and writes them by ascending id', () => {
    const events: HostEvent[] = [
      ...setup(),
      { type: 'IoasidAllocated', data: { fdId: 'fd-1', ioasid: 3 } },
      { type: 'HwidSet', data: { fdId: 'fd-1', ioasid: 3, pasid: 6, globalPasid: 65 } },
      { type: 'IoasidAllocated', data: { fdId: 'fd-1', ioasid: 2 } },
    ];
    const replayed = replayHardware(events);
    const written = replayed.toSnapshot();
    assert.deepEqual(written.fds[0]!.ioasids, [1, 5, 64, 2, 0, 0, 3, 6, 65]);
    const inInsertionOrder = { ...written, fds: [{ ...written.fds[0]!, ioasids: [1, 5, 64, 3, 6, 65, 2, 0, 0] }] };
    const loaded = HostHardware.fromSnapshot(JSON.parse(JSON.stringify(inInsertionOrder)));
    assert.equal(loaded.hash(), replayed.hash());
    assert.deepEqual(loaded.view(), replayed.view());
    assert.deepEqual(countersOf(loaded), countersOf(replayed));
    assert.deepEqual(loaded.toSnapshot(), written);
  });

  it('refuses a second registration and events before one', () => {
    const hw = HostHardware.empty();
    faults(hw, { type: 'FdCreated', data: { fdId: 'fd-1', tenantId: 't', vmId: 'vm', domainId: 1 } }, 'unknown-host');
    hw.apply(setup()[0]!);
    faults(hw, setup()[0]!, 'conflict');
  });
});
