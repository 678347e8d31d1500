import { HostHardware } from '../hardware/host-hardware';
import type { HardwareSnapshot } from '../hardware/snapshot';
import type { HostSpec, HwidMode } from './model';
import { addPasidUser } from './pasid-index';
import { NO_ATTACHMENTS, newIoasid, type AttachmentState, type FdState, type HostState } from './state';

/**
 * A JSON-able image of a host's decider state, to load a long stream without replaying it.
 * The ioasids are columns of numbers (fast to parse at a million); the rarer parts (GPAs,
 * attachments) are listed only for the ioasids that have them. Indexes and per-tenant
 * counts are rebuilt from the fds on load rather than stored, so the image holds each fact once.
 */
export interface HostStateSnapshot {
  format: 2;
  version: number;
  host: HostSpec | null;
  nextDomainId: number;
  nextMdev: number;
  fds: Array<{
    fdId: string;
    tenantId: string;
    vmId: string;
    domainId: number;
    hwidMode: HwidMode | null;
    globalMin: number | null;
    migratable: boolean;
    migratableReason?: string;
    migration?: { migrationId: string; targetHostId: string };
    /** ioasid, pasid, globalPasid, realPasid repeated; 0 where unset (PASIDs start at 1). */
    ioasids: number[];
    /** [ioasid, pgtableGpa, pasidTableGpa, attachments] for the ioasids that have any. */
    details: Array<[number, string | null, string | null, AttachmentState[]]>;
  }>;
  hardware: HardwareSnapshot;
}

export function serializeHostState(state: HostState): HostStateSnapshot {
  return {
    format: 2,
    version: state.version,
    host: state.host,
    nextDomainId: state.nextDomainId,
    nextMdev: state.nextMdev,
    fds: [...state.fds.values()].map((fd) => {
      const ioasids: number[] = [];
      const details: HostStateSnapshot['fds'][number]['details'] = [];
      for (const io of fd.ioasids.values()) {
        ioasids.push(io.ioasid, io.pasid ?? 0, io.globalPasid ?? 0, io.realPasid ?? 0);
        if (io.pgtableGpa !== undefined || io.pasidTableGpa !== undefined || io.attachments.length > 0) {
          details.push([io.ioasid, io.pgtableGpa ?? null, io.pasidTableGpa ?? null, io.attachments.map((a) => ({ ...a }))]);
        }
      }
      return {
        fdId: fd.fdId,
        tenantId: fd.tenantId,
        vmId: fd.vmId,
        domainId: fd.domainId,
        hwidMode: fd.hwidMode,
        globalMin: fd.globalMin,
        migratable: fd.migratable,
        ...(fd.migratableReason !== undefined ? { migratableReason: fd.migratableReason } : {}),
        ...(fd.migration ? { migration: { ...fd.migration } } : {}),
        ioasids,
        details,
      };
    }),
    hardware: state.hw.toSnapshot(),
  };
}

export function deserializeHostState(json: unknown): HostState {
  const snap = json as HostStateSnapshot;
  if (!snap || snap.format !== 2) throw new TypeError('not a host state snapshot (format 2)');
  const state: HostState = {
    version: snap.version,
    host: snap.host,
    hw: HostHardware.fromSnapshot(snap.hardware),
    fds: new Map(),
    fdOfVm: new Map(),
    tenants: new Map(),
    nextDomainId: snap.nextDomainId,
    nextMdev: snap.nextMdev,
  };
  for (const f of snap.fds) {
    const fd: FdState = {
      fdId: f.fdId,
      tenantId: f.tenantId,
      vmId: f.vmId,
      domainId: f.domainId,
      hwidMode: f.hwidMode,
      globalMin: f.globalMin,
      migratable: f.migratable,
      migratableReason: f.migratableReason,
      migration: f.migration,
      ioasids: new Map(),
      ioasidFloor: 1,
      ioasidsByPasid: new Map(),
      hostPasids: 0,
    };
    const cols = f.ioasids;
    for (let i = 0; i < cols.length; i += 4) {
      const io = newIoasid(cols[i]!);
      if (cols[i + 1]) {
        io.pasid = cols[i + 1];
        addPasidUser(fd, io.pasid!, io.ioasid);
      }
      if (cols[i + 2]) io.globalPasid = cols[i + 2];
      if (cols[i + 3]) io.realPasid = cols[i + 3];
      fd.hostPasids += (cols[i + 2] ? 1 : 0) + (cols[i + 3] ? 1 : 0);
      fd.ioasids.set(io.ioasid, io);
    }
    for (const [id, pgtableGpa, pasidTableGpa, attachments] of f.details) {
      const io = fd.ioasids.get(id)!;
      io.pgtableGpa = pgtableGpa ?? undefined;
      io.pasidTableGpa = pasidTableGpa ?? undefined;
      io.attachments = attachments.length ? attachments.map((a) => ({ ...a })) : NO_ATTACHMENTS;
    }
    state.fds.set(fd.fdId, fd);
    state.fdOfVm.set(fd.vmId, fd.fdId);
    const usage = state.tenants.get(fd.tenantId) ?? { fds: 0, hostPasids: 0 };
    usage.fds++;
    usage.hostPasids += fd.hostPasids;
    state.tenants.set(fd.tenantId, usage);
  }
  return state;
}
