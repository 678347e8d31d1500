import { newFd } from './evolve';
import type { HostSpec } from '../model/values';
import { addPasidUser } from './pasid-index';
import type { HardwarePort } from './hardware-port';
import type { FdState, HostState } from './state';
import type { StoredAttachment } from '../model/events';
import { legacyVdevId } from './vdev-id';

/**
 * A JSON-able image of a host's decider state, to load a long stream without replaying it.
 * The ioasids' PASIDs are in the hardware snapshot; the fds add only what the hardware does
 * not hold (GPAs and attachments, for the ioasids that have some). Indexes and per-tenant
 * counts are rebuilt on load rather than stored, so the image holds each fact once.
 * `hardware` is the hardware's own snapshot, opaque here: the composer writes and loads it.
 */
export interface HostStateSnapshot<HardwareSnapshot = unknown> {
  format: 3;
  version: number;
  host: HostSpec | null;
  nextDomainId: number;
  nextMdev: number;
  /** `importedBy` is absent in snapshots older than the import fence, and for fds not created by an import. */
  fds: Array<
    Pick<FdState, 'fdId' | 'tenantId' | 'vmId' | 'domainId' | 'hwidMode' | 'globalMin' | 'migratable' | 'migratableReason' | 'migration' | 'importedBy'> & {
      /** [ioasid, pgtableGpa, pasidTableGpa, attachments] for the ioasids that have any (no `vdevId` in snapshots of earlier releases). */
      details: Array<[number, string | null, string | null, StoredAttachment[]]>;
    }
  >;
  /** Absent when none (and in snapshots older than the import fence): still format 3. */
  barredImports?: string[];
  hardware: HardwareSnapshot;
}

/** The image of `state`, with `hardware`, the snapshot of its hardware. */
export function hostStateSnapshot<S>(state: HostState, hardware: S): HostStateSnapshot<S> {
  return {
    format: 3,
    version: state.version,
    host: state.host,
    nextDomainId: state.nextDomainId,
    nextMdev: state.nextMdev,
    fds: [...state.fds.values()].map((fd) => ({
      fdId: fd.fdId,
      tenantId: fd.tenantId,
      vmId: fd.vmId,
      domainId: fd.domainId,
      hwidMode: fd.hwidMode,
      globalMin: fd.globalMin,
      migratable: fd.migratable,
      ...(fd.migratableReason !== undefined ? { migratableReason: fd.migratableReason } : {}),
      ...(fd.migration ? { migration: { ...fd.migration } } : {}),
      ...(fd.importedBy !== undefined ? { importedBy: fd.importedBy } : {}),
      details: [...fd.ioasids.details].map(([ioasid, d]): HostStateSnapshot['fds'][number]['details'][number] => [
        ioasid,
        d.pgtableGpa ?? null,
        d.pasidTableGpa ?? null,
        d.attachments.map((a) => ({ ...a })),
      ]),
    })),
    ...(state.barredImports.size > 0 ? { barredImports: [...state.barredImports] } : {}),
    hardware,
  };
}

/** A state from its image; `loadHardware` restores the hardware from the image's `hardware`. */
export function restoreHostState<H extends HardwarePort>(json: unknown, loadHardware: (hardware: unknown) => H): HostState<H> {
  const snap = json as HostStateSnapshot;
  if (!snap || snap.format !== 3) throw new TypeError('not a host state snapshot (format 3)');
  const state: HostState<H> = {
    version: snap.version,
    host: snap.host,
    hw: loadHardware(snap.hardware),
    fds: new Map(),
    tenants: new Map(),
    nextDomainId: snap.nextDomainId,
    nextMdev: snap.nextMdev,
    barredImports: new Set(snap.barredImports ?? []),
  };
  for (const f of snap.fds) {
    const fd = newFd(state, f);
    fd.hwidMode = f.hwidMode;
    fd.globalMin = f.globalMin;
    fd.migratable = f.migratable;
    fd.migratableReason = f.migratableReason;
    fd.migration = f.migration;
    fd.importedBy = f.importedBy;
    for (const [ioasid, pgtableGpa, pasidTableGpa, attachments] of f.details) {
      fd.ioasids.update(ioasid, { pgtableGpa: pgtableGpa ?? undefined, pasidTableGpa: pasidTableGpa ?? undefined, attachments: attachments.map((a) => ({ ...a, vdevId: a.vdevId ?? legacyVdevId(ioasid, a.rid, a.mdevId) })) });
    }
    state.hw.ioasidsOf(fd.fdId)?.forEach((ioasid, pasid, hostPasid) => {
      if (pasid) addPasidUser(fd, pasid, ioasid);
      if (hostPasid) fd.hostPasids++;
    });
    state.fds.set(fd.fdId, fd);
    const usage = state.tenants.get(fd.tenantId) ?? { fds: 0, hostPasids: 0 };
    usage.fds++;
    usage.hostPasids += fd.hostPasids;
    state.tenants.set(fd.tenantId, usage);
  }
  return state;
}
