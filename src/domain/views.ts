import type { FdImage, FdView, HostView, HwidView, IoasidView } from '../model/views';
import { DomainError } from '../model/errors';
import type { HostCommand } from '../model/commands';
import type { HostEvent } from '../model/events';
import type { FdState, HostState } from './state';
import type { IoasidState } from './ioasid-table';

/** Read models computed from a host's decider state. */
export function hostView(state: HostState): HostView | undefined {
  if (!state.host) return undefined;
  const h = state.host;
  return {
    hostId: h.hostId,
    pasidBits: h.pasidBits,
    enqcmd: h.enqcmd,
    nestedPasidTable: h.nestedPasidTable,
    devices: h.devices.map((d) => ({ rid: d.rid, kind: d.kind, pasidBits: d.pasidBits })),
    reservedPasids: (h.reservedPasids ?? []).map((r) => ({ ...r })),
    cordoned: h.cordoned === true,
    decommissioned: h.decommissioned === true,
    version: state.version,
  };
}

export function ioasidView(io: IoasidState): IoasidView {
  return {
    ioasid: io.ioasid,
    ...(io.pasid !== undefined ? { pasid: io.pasid } : {}),
    ...(io.globalPasid !== undefined ? { globalPasid: io.globalPasid } : {}),
    ...(io.pgtableGpa !== undefined ? { pgtableGpa: io.pgtableGpa } : {}),
    ...(io.pasidTableGpa !== undefined ? { pasidTableGpa: io.pasidTableGpa } : {}),
    attachments: io.attachments.map((a) =>
      a.mdevId !== undefined ? { vdevId: a.vdevId, rid: a.rid, enqcmd: a.enqcmd, mdevId: a.mdevId } : { vdevId: a.vdevId, rid: a.rid, enqcmd: a.enqcmd },
    ),
  };
}

/** The fd as API.md shows it; no tenant filtering here (the caller does it). */
export function fdView(state: HostState, fdId: string): FdView | undefined {
  const fd = state.fds.get(fdId);
  if (!fd || !state.host) return undefined;
  const kvm = state.hw.kvmMappingsOf(fd.fdId);
  const view: FdView = {
    fdId: fd.fdId,
    tenantId: fd.tenantId,
    hostId: state.host.hostId,
    vmId: fd.vmId,
    hwidMode: fd.hwidMode,
    globalMin: fd.globalMin,
    migratable: fd.migratable,
    ioasids: sortedIoasids(fd).map(ioasidView),
    kvmMappings: [...kvm.keys()].sort((a, b) => a - b).map((guestPasid) => ({ guestPasid, hostPasid: kvm.get(guestPasid)! })),
    version: state.version,
  };
  if (fd.migratableReason !== undefined) view.migratableReason = fd.migratableReason;
  if (fd.migration) view.migratingTo = fd.migration.targetHostId;
  return view;
}

/** Open fds of the host. */
export function fdIdsOf(state: HostState): string[] {
  return [...state.fds.keys()];
}

/** Throws NOT_FOUND (no such fd or ioasid) or HWID_NOT_SET. Reading never exposes: GetHwid (a command) does. */
export function hwidView(state: HostState, fdId: string, ioasid: number): HwidView {
  const fd = state.fds.get(fdId);
  const io = fd?.ioasids.get(ioasid);
  if (!fd || !io) throw new DomainError('NOT_FOUND', `ioasid ${ioasid} of fd ${fdId} not found`);
  if (io.pasid === undefined) throw new DomainError('HWID_NOT_SET', `ioasid ${ioasid} has no hwid yet`);
  return { ioasid, pasid: io.pasid, hostPasid: io.globalPasid ?? io.realPasid ?? io.pasid };
}

/** The guest-visible state that migrates (DOMAIN.md op 12); host PASIDs stay behind. */
export function exportFd(state: HostState, fdId: string, actorTenantId?: string): FdImage {
  const fd = state.fds.get(fdId);
  if (!fd || (actorTenantId !== undefined && fd.tenantId !== actorTenantId)) throw new DomainError('NOT_FOUND', `fd ${fdId} not found`, { fdId });
  if (!fd.migratable) throw new DomainError('NOT_MIGRATABLE', `fd ${fdId} is not migratable: ${fd.migratableReason}`, { reason: fd.migratableReason });
  const devices = new Map(state.host!.devices.map((d) => [d.rid, d]));
  return {
    vmId: fd.vmId,
    hwidMode: fd.hwidMode,
    globalMin: fd.globalMin,
    ioasids: sortedIoasids(fd).map((io) => {
      const image: FdImage['ioasids'][number] = {
        ioasid: io.ioasid,
        attachments: io.attachments.map((a) => {
          const device = devices.get(a.rid)!;
          return { vdevId: a.vdevId, rid: a.rid, enqcmd: a.enqcmd, kind: device.kind, pasidBits: device.pasidBits };
        }),
      };
      if (io.pasid !== undefined) image.pasid = io.pasid;
      if (io.pgtableGpa !== undefined) image.pgtableGpa = io.pgtableGpa;
      if (io.pasidTableGpa !== undefined) image.pasidTableGpa = io.pasidTableGpa;
      return image;
    }),
    kvmGuestPasids: [...state.hw.kvmMappingsOf(fd.fdId).keys()].sort((a, b) => a - b),
  };
}

/** The REST response body of API.md for a command that produced `events`, read from the state after them. */
export function commandResult(command: HostCommand, events: HostEvent[], stateAfter: HostState): unknown {
  switch (command.type) {
    case 'RegisterHost':
    case 'AddDevice':
    case 'CordonHost':
    case 'UncordonHost':
      return hostView(stateAfter);
    case 'CreateFd':
    case 'SetHwidMode':
    case 'SetGlobalMin':
    case 'StartMigration':
    case 'AbortMigration':
      return fdView(stateAfter, command.fdId) ?? null;
    case 'ImportFd':
      return fdView(stateAfter, command.fdId) ?? null;
    // The answer of the whole migration (API.md POST /v1/fds/{fdId}/migrations): its last step commits it.
    case 'CompleteMigration':
      return { migrationId: command.migrationId, state: 'completed', targetFdId: command.targetFdId };
    case 'AllocIoasid': {
      const allocated = events.find((e) => e.type === 'IoasidAllocated');
      return allocated ? { ioasid: allocated.data.ioasid } : null;
    }
    case 'AttachDevice': {
      const attached = events.find((e) => e.type === 'DeviceAttached');
      if (!attached) return null;
      const { rid, ioasid, enqcmd, vdevId, mdevId } = attached.data;
      return mdevId !== undefined ? { vdevId, rid, ioasid, enqcmd, mdevId } : { vdevId, rid, ioasid, enqcmd };
    }
    case 'SetPasidTable':
    case 'BindPgtable': {
      const io = ioasidOf(stateAfter, command.fdId, command.ioasid);
      return io ? ioasidView(io) : null;
    }
    case 'SetHwid': {
      const io = ioasidOf(stateAfter, command.fdId, command.ioasid);
      if (!io || io.pasid === undefined) return null;
      return io.globalPasid !== undefined ? { ioasid: io.ioasid, pasid: io.pasid, globalPasid: io.globalPasid } : { ioasid: io.ioasid, pasid: io.pasid };
    }
    case 'GetHwid':
      return hwidView(stateAfter, command.fdId, command.ioasid);
    case 'SetKvmPasidMapping':
      return { guestPasid: command.guestPasid, hostPasid: command.hostPasid };
    case 'BarMigrationImport':
    case 'RemoveDevice':
    case 'DecommissionHost':
    case 'CloseFd':
    case 'FreeIoasid':
    case 'DetachDevice':
    case 'UnbindPgtable':
    case 'UnsetKvmPasidMapping':
      return null;
    default: {
      // A type added to HostCommand without a case here does not compile.
      const _: never = command;
      return undefined;
    }
  }
}

function ioasidOf(state: HostState, fdId: string, ioasid: number): IoasidState | undefined {
  return state.fds.get(fdId)?.ioasids.get(ioasid);
}

function sortedIoasids(fd: FdState): IoasidState[] {
  return [...fd.ioasids.values()].sort((a, b) => a.ioasid - b.ioasid);
}
