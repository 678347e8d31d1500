import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { DomainError, type FdImage, type HostCommand } from '../../src/model';
import { evolveAll, exportFd, fdView } from '../../src/domain';
import { TestHost, SIOV, VF1, VF2 } from '../support/domain-host';
import { deserializeHostState, initialHostState, serializeHostState } from '../../src/composition/host-state';

const B_VF1 = { rid: '0000:af:00.1', kind: 'vf' as const, pasidBits: 20 };
const B_VF2 = { rid: '0000:af:00.2', kind: 'vf' as const, pasidBits: 20 };
const B_SIOV = { rid: '0000:d8:00.0', kind: 'siov' as const, pasidBits: 20 };
const B_NARROW = { rid: '0000:af:00.7', kind: 'vf' as const, pasidBits: 4 };
const DEVICE_MAP = { [VF1.rid]: B_VF1.rid, [VF2.rid]: B_VF2.rid, [SIOV.rid]: B_SIOV.rid };

/** Host A with an fd in global mode: an enqcmd vf, a plain vf and a siov mdev, a bound page table and a KVM mapping. */
function sourceHost(): TestHost {
  const a = new TestHost().register({ hostId: 'host-a', enqcmd: true, devices: [VF1, VF2, SIOV] });
  a.run({ type: 'CreateFd', fdId: 'fd-a', tenantId: 't1', vmId: 'vm-1' });
  const fd = a.fd('fd-a');
  fd.run({ type: 'SetHwidMode', mode: 'global' });
  fd.run({ type: 'SetGlobalMin', globalMin: 1024 });
  fd.run({ type: 'AllocIoasid' });
  fd.run({ type: 'AttachDevice', ioasid: 1, rid: VF1.rid, enqcmd: true });
  fd.run({ type: 'AttachDevice', ioasid: 1, rid: SIOV.rid, enqcmd: false });
  fd.run({ type: 'SetHwid', ioasid: 1, pasid: 5 });
  fd.run({ type: 'BindPgtable', ioasid: 1, gpa: '0x7f0000' });
  fd.run({ type: 'SetKvmPasidMapping', guestPasid: 5, hostPasid: 1024 });
  fd.run({ type: 'AllocIoasid' });
  fd.run({ type: 'AttachDevice', ioasid: 2, rid: VF2.rid, enqcmd: false });
  fd.run({ type: 'SetHwid', ioasid: 2, pasid: 6 });
  return a;
}

/** Host B, already busy with another VM holding global PASID 1024, so that B's PASIDs differ from A's. */
function targetHost(options: { enqcmd?: boolean; nestedPasidTable?: boolean; pasidBits?: number; devices?: typeof B_VF1[] } = {}): TestHost {
  const pasidBits = options.pasidBits ?? 20;
  const devices = (options.devices ?? [B_VF1, B_VF2, B_SIOV, B_NARROW]).map((d) => ({ ...d, pasidBits: Math.min(d.pasidBits, pasidBits) }));
  const b = new TestHost().register({ hostId: 'host-b', enqcmd: options.enqcmd ?? true, nestedPasidTable: options.nestedPasidTable ?? false, pasidBits, devices });
  b.run({ type: 'CreateFd', fdId: 'fd-other', tenantId: 't2', vmId: 'vm-9' });
  const other = b.fd('fd-other');
  other.run({ type: 'SetHwidMode', mode: 'global' });
  other.run({ type: 'SetGlobalMin', globalMin: Math.min(1024, 2 ** pasidBits - 8) });
  other.run({ type: 'AllocIoasid' });
  other.run({ type: 'AttachDevice', ioasid: 1, rid: B_SIOV.rid, enqcmd: false });
  other.run({ type: 'SetHwid', ioasid: 1, pasid: 1 });
  return b;
}

function importCommand(image: FdImage, deviceMap: Record<string, string> = DEVICE_MAP): HostCommand {
  return { type: 'ImportFd', fdId: 'fd-b', tenantId: 't1', migrationId: 'mig-1', sourceHostId: 'host-a', sourceFdId: 'fd-a', image, deviceMap };
}

describe('migration', () => {
  it('exports the guest-visible state only', () => {
    const a = sourceHost();
    const image = exportFd(a.state, 'fd-a');
    assert.deepEqual(image, {
      vmId: 'vm-1',
      hwidMode: 'global',
      globalMin: 1024,
      ioasids: [
        {
          ioasid: 1,
          pasid: 5,
          pgtableGpa: '0x7f0000',
          attachments: [
            { vdevId: 'vdev-1', rid: VF1.rid, enqcmd: true, kind: 'vf', pasidBits: 20 },
            { vdevId: 'vdev-2', rid: SIOV.rid, enqcmd: false, kind: 'siov', pasidBits: 20 },
          ],
        },
        { ioasid: 2, pasid: 6, attachments: [{ vdevId: 'vdev-3', rid: VF2.rid, enqcmd: false, kind: 'vf', pasidBits: 20 }] },
      ],
      kvmGuestPasids: [5],
    });
    assert.throws(() => exportFd(a.state, 'fd-a', 't2'), (e) => e instanceof DomainError && e.code === 'NOT_FOUND');
    assert.throws(() => exportFd(a.state, 'nope'), (e) => e instanceof DomainError && e.code === 'NOT_FOUND');
  });

  it('moves an fd from A to B: freeze, import with new host PASIDs, release A', () => {
    const a = sourceHost();
    const started = a.run({ type: 'StartMigration', fdId: 'fd-a', migrationId: 'mig-1', targetHostId: 'host-b' });
    assert.equal((started.result as { migratingTo: string }).migratingTo, 'host-b');
    // Frozen: changes refused, reads still work.
    a.refuse({ type: 'AllocIoasid', fdId: 'fd-a' }, 'FD_MIGRATING');
    a.refuse({ type: 'CloseFd', fdId: 'fd-a' }, 'FD_MIGRATING');
    a.refuse({ type: 'StartMigration', fdId: 'fd-a', migrationId: 'mig-2', targetHostId: 'host-c' }, 'FD_MIGRATING');
    assert.deepEqual(a.run({ type: 'GetHwid', fdId: 'fd-a', ioasid: 1 }).result, { ioasid: 1, pasid: 5, hostPasid: 1024 });

    const b = targetHost();
    const imported = b.one(importCommand(exportFd(a.state, 'fd-a')), 'FdImported');
    assert.deepEqual(imported.data.allocatedPasids, [1025, 1026], 'B re-allocates: 1024 is taken there');
    assert.deepEqual(imported.data.kvmMappings, [{ guestPasid: 5, hostPasid: 1025 }]);
    assert.equal(imported.data.domainId, 2);
    assert.deepEqual(imported.data.ioasids[0]!.attachments, [
      { vdevId: 'vdev-1', rid: B_VF1.rid, enqcmd: true },
      { vdevId: 'vdev-2', rid: B_SIOV.rid, enqcmd: false, mdevId: 'mdev-2' },
    ]);
    const view = fdView(b.state, 'fd-b')!;
    assert.deepEqual(
      { hwidMode: view.hwidMode, globalMin: view.globalMin, kvm: view.kvmMappings, ioasids: view.ioasids.map((i) => [i.ioasid, i.pasid, i.globalPasid, i.pgtableGpa]) },
      { hwidMode: 'global', globalMin: 1024, kvm: [{ guestPasid: 5, hostPasid: 1025 }], ioasids: [[1, 5, 1025, '0x7f0000'], [2, 6, 1026, undefined]] },
    );
    assert.deepEqual(b.entriesOn(B_VF1.rid), { 1025: 'global' });
    assert.deepEqual(b.entriesOn(B_SIOV.rid), { 1025: 'global' });
    assert.deepEqual(b.hw().vms['vm-1'], { 5: 1025 });
    assert.deepEqual(b.run({ type: 'AllocIoasid', fdId: 'fd-b' }).result, { ioasid: 3 });

    a.refuse({ type: 'CompleteMigration', fdId: 'fd-a', migrationId: 'mig-x', targetFdId: 'fd-b' }, 'NOT_FOUND');
    const out = a.one({ type: 'CompleteMigration', fdId: 'fd-a', migrationId: 'mig-1', targetFdId: 'fd-b' }, 'FdMigratedOut');
    assert.deepEqual(out.data.released.pasids, [1024, 1025]);
    assert.equal(fdView(a.state, 'fd-a'), undefined);
    assert.deepEqual(a.hw().allocator.used, 0);
    assert.deepEqual(a.hw().vms, {});
  });

  it('aborts a migration by unfreezing the source', () => {
    const a = sourceHost();
    a.run({ type: 'StartMigration', fdId: 'fd-a', migrationId: 'mig-1', targetHostId: 'host-b' });
    a.refuse({ type: 'AbortMigration', fdId: 'fd-a', migrationId: 'other', reason: 'x' }, 'NOT_FOUND');
    const aborted = a.run({ type: 'AbortMigration', fdId: 'fd-a', migrationId: 'mig-1', reason: 'target refused' });
    assert.equal((aborted.result as { migratingTo?: string }).migratingTo, undefined);
    a.one({ type: 'AllocIoasid', fdId: 'fd-a' }, 'IoasidAllocated');
    a.refuse({ type: 'CompleteMigration', fdId: 'fd-a', migrationId: 'mig-1', targetFdId: 'fd-b' }, 'NOT_FOUND');
  });

  it('imports all or nothing: every refusal leaves B unchanged', () => {
    const image = exportFd(sourceHost().state, 'fd-a');
    const b = targetHost();
    const offences = (deviceMap: Record<string, string>) => b.refuse(importCommand(image, deviceMap), 'DEVICE_MAP_INVALID').details!.entries;
    assert.deepEqual(offences({ [VF1.rid]: B_VF1.rid, [SIOV.rid]: B_SIOV.rid }), [{ source: VF2.rid, problem: 'SOURCE_MISSING' }]);
    assert.deepEqual(offences({ ...DEVICE_MAP, [VF2.rid]: '0000:00:00.0' }), [{ source: VF2.rid, target: '0000:00:00.0', problem: 'TARGET_UNKNOWN' }]);
    assert.deepEqual(offences({ ...DEVICE_MAP, [SIOV.rid]: B_VF2.rid, [VF2.rid]: B_SIOV.rid }), [
      { source: SIOV.rid, target: B_VF2.rid, problem: 'KIND_MISMATCH' },
      { source: VF2.rid, target: B_SIOV.rid, problem: 'KIND_MISMATCH' },
    ]);
    assert.deepEqual(offences({ ...DEVICE_MAP, [VF2.rid]: B_NARROW.rid }), [{ source: VF2.rid, target: B_NARROW.rid, problem: 'TOO_NARROW' }]);
    // Not one-to-one: both source entries sharing a target are named, whatever else is wrong.
    assert.deepEqual(offences({ ...DEVICE_MAP, [VF2.rid]: B_VF1.rid, [SIOV.rid]: '0000:00:00.0' }), [
      { source: VF1.rid, target: B_VF1.rid, problem: 'TARGET_SHARED' },
      { source: VF2.rid, target: B_VF1.rid, problem: 'TARGET_SHARED' },
      { source: SIOV.rid, target: '0000:00:00.0', problem: 'TARGET_UNKNOWN' },
    ]);
    b.refuse({ ...importCommand(image), actorTenantId: 't2' } as HostCommand, 'FORBIDDEN');

    b.quotas.set('t1', { maxFds: 5, maxHostPasids: 1 });
    b.refuse(importCommand(image), 'QUOTA_EXCEEDED');
    b.quotas.set('t1', { maxFds: 0, maxHostPasids: 10 });
    b.refuse(importCommand(image), 'QUOTA_EXCEEDED');
    b.quotas.delete('t1');

    b.run({ type: 'CreateFd', fdId: 'fd-squat', tenantId: 't3', vmId: 'vm-squat' });
    b.run({ type: 'SetHwidMode', fdId: 'fd-squat', mode: 'local' });
    b.run({ type: 'AllocIoasid', fdId: 'fd-squat' });
    b.run({ type: 'AttachDevice', fdId: 'fd-squat', ioasid: 1, rid: B_VF2.rid, enqcmd: false });
    b.refuse(importCommand(image), 'DEVICE_BUSY');
    b.run({ type: 'CloseFd', fdId: 'fd-squat' });

    b.run({ type: 'CreateFd', fdId: 'fd-vm1', tenantId: 't1', vmId: 'vm-1' });
    b.refuse(importCommand(image), 'ALREADY_EXISTS');
    b.run({ type: 'CloseFd', fdId: 'fd-vm1' });
    b.one(importCommand(image), 'FdImported');
    b.refuse(importCommand(image), 'ALREADY_EXISTS');
  });

  it('checks the target has the capabilities and the PASID space the fd needs', () => {
    const image = exportFd(sourceHost().state, 'fd-a');
    targetHost({ enqcmd: false }).refuse(importCommand(image), 'CAPABILITY_MISSING', /ENQCMD/);
    // A 10-bit target cannot hold the split at 1024.
    targetHost({ pasidBits: 10 }).refuse(importCommand(image), 'INVALID_RANGE', /split/);
    // An 11-bit target could hold the split, but its devices are narrower than the 20-bit ones the guest was shown.
    const small = targetHost({ pasidBits: 11 });
    assert.deepEqual(
      small.refuse(importCommand(image), 'DEVICE_MAP_INVALID').details!.entries,
      [VF1, SIOV, VF2].map((d) => ({ source: d.rid, target: DEVICE_MAP[d.rid], problem: 'TOO_NARROW' })),
    );
    // Devices of the same width on an 11-bit host hold global PASIDs in [1024, 2048).
    const narrowSource = new TestHost().register({ hostId: 'host-a', enqcmd: true, pasidBits: 11, devices: [VF1, VF2, SIOV].map((d) => ({ ...d, pasidBits: 11 })) });
    narrowSource.run({ type: 'CreateFd', fdId: 'fd-a', tenantId: 't1', vmId: 'vm-1' });
    const nfd = narrowSource.fd('fd-a');
    nfd.run({ type: 'SetHwidMode', mode: 'global' });
    nfd.run({ type: 'SetGlobalMin', globalMin: 1024 });
    nfd.run({ type: 'AllocIoasid' });
    nfd.run({ type: 'AttachDevice', ioasid: 1, rid: VF1.rid, enqcmd: true });
    nfd.run({ type: 'SetHwid', ioasid: 1, pasid: 5 });
    nfd.run({ type: 'AllocIoasid' });
    nfd.run({ type: 'AttachDevice', ioasid: 2, rid: VF2.rid, enqcmd: false });
    nfd.run({ type: 'SetHwid', ioasid: 2, pasid: 6 });
    assert.deepEqual(small.one(importCommand(exportFd(narrowSource.state, 'fd-a'), { [VF1.rid]: B_VF1.rid, [VF2.rid]: B_VF2.rid }), 'FdImported').data.allocatedPasids, [1025, 1026]);

    const table = new TestHost().register({ hostId: 'host-a', nestedPasidTable: true, devices: [VF1] });
    table.run({ type: 'CreateFd', fdId: 'fd-a', tenantId: 't1', vmId: 'vm-1' });
    table.run({ type: 'SetHwidMode', fdId: 'fd-a', mode: 'local' });
    table.run({ type: 'AllocIoasid', fdId: 'fd-a' });
    table.run({ type: 'AttachDevice', fdId: 'fd-a', ioasid: 1, rid: VF1.rid, enqcmd: false });
    table.run({ type: 'SetPasidTable', fdId: 'fd-a', ioasid: 1, gpa: '0x9000' });
    const tableImage = exportFd(table.state, 'fd-a');
    targetHost({ nestedPasidTable: false }).refuse(importCommand(tableImage), 'CAPABILITY_MISSING', /guest PASID table/);
    const nested = targetHost({ nestedPasidTable: true });
    const imported = nested.one(importCommand(tableImage), 'FdImported');
    assert.deepEqual(imported.data.guestContexts, [{ rid: B_VF1.rid, gpa: '0x9000' }]);
    assert.deepEqual(nested.hw().rids[B_VF1.rid]!.context, { table: 'guest', gpa: '0x9000' });
  });

  it('re-creates local-mode vf and siov ioasids with fresh real PASIDs', () => {
    const a = new TestHost().register({ hostId: 'host-a', devices: [VF1, SIOV] });
    a.run({ type: 'CreateFd', fdId: 'fd-a', tenantId: 't1', vmId: 'vm-1' });
    const fd = a.fd('fd-a');
    fd.run({ type: 'SetHwidMode', mode: 'local' });
    fd.run({ type: 'AllocIoasid' });
    fd.run({ type: 'AttachDevice', ioasid: 1, rid: VF1.rid, enqcmd: false });
    fd.run({ type: 'AttachDevice', ioasid: 1, rid: SIOV.rid, enqcmd: false });
    fd.run({ type: 'SetHwid', ioasid: 1, pasid: 77 });
    fd.run({ type: 'BindPgtable', ioasid: 1, gpa: '0x5000' });
    const b = targetHost();
    const imported = b.one(importCommand(exportFd(a.state, 'fd-a')), 'FdImported');
    assert.deepEqual(imported.data.ioasids[0], {
      ioasid: 1, pasid: 77, realPasid: 1, pgtableGpa: '0x5000',
      attachments: [{ vdevId: 'vdev-1', rid: B_VF1.rid, enqcmd: false }, { vdevId: 'vdev-2', rid: B_SIOV.rid, enqcmd: false, mdevId: 'mdev-2' }],
    });
    assert.deepEqual(b.entriesOn(B_VF1.rid), { 77: 'local' });
    assert.deepEqual(b.entriesOn(B_SIOV.rid), { 1: 'real' });
    assert.equal(b.state.fds.get('fd-b')!.migratable, true, 'the real PASID was never exposed');
    // The migrated fd keeps working and closes cleanly on B.
    b.run({ type: 'UnbindPgtable', fdId: 'fd-b', ioasid: 1 });
    b.run({ type: 'CloseFd', fdId: 'fd-b' });
    assert.deepEqual(b.entriesOn(B_VF1.rid), {});
  });
});

/** The fence of a migration on its target: of its import and its bar, the first decided wins, for good. */
describe('the migration import fence', () => {
  const bar = (migrationId = 'mig-1'): HostCommand => ({ type: 'BarMigrationImport', migrationId, sourceHostId: 'host-a', sourceFdId: 'fd-a' });

  it('once barred, the import of that migration is refused; other migrations import as before', () => {
    const a = sourceHost();
    const b = targetHost();
    const hardware = b.state.hw.hash();
    const barred = b.one(bar(), 'MigrationImportBarred');
    assert.deepEqual(barred.data, { migrationId: 'mig-1', sourceHostId: 'host-a', sourceFdId: 'fd-a' });
    assert.equal(b.state.hw.hash(), hardware, 'the hardware ignores the bar');
    const image = exportFd(a.state, 'fd-a');
    b.refuse(importCommand(image), 'VERSION_CONFLICT', /mig-1 .*barred/);
    assert.deepEqual(b.run(bar()).events, [], 'barring again decides nothing new');
    b.one({ ...importCommand(image), migrationId: 'mig-2' } as HostCommand, 'FdImported');
  });

  it('once imported, the bar is refused with the imported fd, until that fd is closed', () => {
    const a = sourceHost();
    const b = targetHost();
    b.one(importCommand(exportFd(a.state, 'fd-a')), 'FdImported');
    const refusal = b.refuse(bar(), 'ALREADY_EXISTS', /complete it/);
    assert.deepEqual(refusal.details, { migrationId: 'mig-1', fdId: 'fd-b' });
    // Completing now would leave the VM on no host: with the imported fd closed, the bar is decided.
    b.run({ type: 'CloseFd', fdId: 'fd-b' });
    b.one(bar(), 'MigrationImportBarred');
  });

  it('bars nothing on a host that is not registered', () => {
    const b = new TestHost();
    b.refuse(bar(), 'NOT_FOUND');
  });

  it('keeps the fence in snapshots, and loads a snapshot written before the fence existed', () => {
    const a = sourceHost();
    const b = targetHost();
    b.one(importCommand(exportFd(a.state, 'fd-a')), 'FdImported');
    b.one(bar('mig-2'), 'MigrationImportBarred');
    const restored = deserializeHostState(JSON.parse(JSON.stringify(serializeHostState(b.state))));
    b.state = restored;
    b.refuse(bar(), 'ALREADY_EXISTS');
    b.refuse({ ...importCommand(exportFd(a.state, 'fd-a')), fdId: 'fd-c', migrationId: 'mig-2' } as HostCommand, 'VERSION_CONFLICT');

    const old = JSON.parse(JSON.stringify(serializeHostState(targetHost().state)));
    assert.equal(old.barredImports, undefined, 'nothing barred: nothing written, as before the fence');
    for (const fd of old.fds) assert.equal(fd.importedBy, undefined);
    assert.deepEqual(deserializeHostState(old).barredImports, new Set());
  });

  it('for any interleaving of imports and bars, exactly one of each migration\'s import and bar wins', () => {
    const migrations = ['m-0', 'm-1', 'm-2'];
    const op = fc.record({ kind: fc.constantFrom('import' as const, 'bar' as const), m: fc.integer({ min: 0, max: migrations.length - 1 }) });
    fc.assert(
      fc.property(fc.array(op, { maxLength: 12 }), (ops) => {
        const b = targetHost();
        const first = new Map<string, 'import' | 'bar'>();
        for (const { kind, m } of ops) {
          const migrationId = migrations[m]!;
          // No devices: two migrations of different VMs never compete for anything but the fence.
          const image: FdImage = { vmId: `vm-${migrationId}`, hwidMode: null, globalMin: null, ioasids: [], kvmGuestPasids: [] };
          const command: HostCommand =
            kind === 'bar'
              ? bar(migrationId)
              : { type: 'ImportFd', fdId: `fd-${migrationId}`, tenantId: 't1', migrationId, sourceHostId: 'host-a', sourceFdId: 'fd-a', image, deviceMap: {} };
          const winner = first.get(migrationId) ?? kind;
          first.set(migrationId, winner);
          if (winner === kind && (kind === 'bar' || b.log.every((e) => e.type !== 'FdImported' || e.data.migrationId !== migrationId))) b.run(command);
          else b.refuse(command, winner === 'bar' ? 'VERSION_CONFLICT' : 'ALREADY_EXISTS');
        }
        for (const migrationId of migrations) {
          const imports = b.log.filter((e) => e.type === 'FdImported' && e.data.migrationId === migrationId).length;
          const bars = b.log.filter((e) => e.type === 'MigrationImportBarred' && e.data.migrationId === migrationId).length;
          assert.deepEqual([imports, bars], first.get(migrationId) === 'import' ? [1, 0] : first.has(migrationId) ? [0, 1] : [0, 0]);
        }
        const replayed = evolveAll(initialHostState(), b.log);
        assert.deepEqual(serializeHostState(replayed), serializeHostState(b.state), 'replay rebuilds the fence');
      }),
    );
  });
});
