import type { EventData, HostEvent } from '../model/events';
import { IoasidTable, NO_ATTACHMENTS } from './ioasid-table';
import type { HostSpec, Released, Rid } from '../model/values';
import { addPasidUser, removePasidUser } from './pasid-index';
import { legacyVdevId } from './vdev-id';
import type { FdState, HostState } from './state';
import type { AttachmentView, FdIdentity } from '../model/views';

/**
 * Applies one event: first to the emulated hardware (which checks I1-I9 and throws a
 * HardwareFault, changing nothing, if the event breaks one), then to the logical fd model.
 * The fds' ioasid tables read PASIDs from the hardware, so only what the hardware does not
 * hold (GPAs, attachments, modes, counters, the local-mode PASID index) changes here.
 *
 * For speed it MUTATES `state` and returns the same object: the caller owns the state and
 * must not keep an older reference expecting it unchanged (decide never mutates, so the
 * usual decide-then-evolve loop is safe). Nothing is decided here: every id, PASID and
 * release comes from the event.
 */
export function evolve<S extends HostState>(state: S, event: HostEvent): S {
  // Freeing takes the ioasid out of the hardware: read its hwid first, for the local index.
  const freedPasid = event.type === 'IoasidFreed' ? state.fds.get(event.data.fdId)?.ioasids.get(event.data.ioasid)?.pasid : undefined;
  state.hw.apply(event);
  applyLogical(state, event, freedPasid);
  state.version++;
  return state;
}

export function evolveAll<S extends HostState>(state: S, events: Iterable<HostEvent>): S {
  for (const event of events) evolve(state, event);
  return state;
}

function applyLogical(state: HostState, event: HostEvent, freedPasid: number | undefined): void {
  switch (event.type) {
    case 'HostRegistered':
      state.host = {
        ...event.data,
        devices: event.data.devices.map((d) => ({ ...d })),
        ...(event.data.reservedPasids ? { reservedPasids: event.data.reservedPasids.map((r) => ({ ...r })) } : {}),
      };
      return;
    case 'DeviceAdded': {
      const { hostId: _, ...device } = event.data;
      return replaceHost(state, { devices: [...state.host!.devices, device] });
    }
    case 'DeviceRemoved':
      return removeDevice(state, event.data.rid);
    case 'HostCordoned':
      return replaceHost(state, { cordoned: true });
    case 'HostUncordoned':
      return replaceHost(state, { cordoned: undefined });
    case 'HostDecommissioned':
      return replaceHost(state, { decommissioned: true });
    case 'FdCreated':
      addFd(state, event.data);
      state.nextDomainId = Math.max(state.nextDomainId, event.data.domainId + 1);
      return;
    case 'FdClosed':
    case 'FdMigratedOut':
      return removeFd(state, event.data.fdId, event.data.released);
    case 'HwidModeSet':
      fd(state, event.data.fdId).hwidMode = event.data.mode;
      return;
    case 'GlobalMinSet':
      fd(state, event.data.fdId).globalMin = event.data.globalMin;
      return;
    case 'IoasidAllocated': {
      const f = fd(state, event.data.fdId);
      if (event.data.ioasid === f.ioasidFloor) f.ioasidFloor++;
      return;
    }
    case 'IoasidFreed': {
      const f = fd(state, event.data.fdId);
      countHostPasids(state, f, -event.data.released.pasids.length);
      if (freedPasid !== undefined) removePasidUser(f, freedPasid, event.data.ioasid);
      f.ioasids.details.delete(event.data.ioasid);
      f.ioasidFloor = Math.min(f.ioasidFloor, event.data.ioasid);
      return;
    }
    case 'DeviceAttached':
      return attach(state, event.data);
    case 'DeviceDetached': {
      const table = fd(state, event.data.fdId).ioasids;
      const attachments = table.get(event.data.ioasid)!.attachments;
      const index = attachments.findIndex((a) => a.rid === event.data.rid && a.mdevId === event.data.mdevId);
      table.update(event.data.ioasid, { attachments: attachments.length === 1 ? NO_ATTACHMENTS : attachments.filter((_, i) => i !== index) });
      return;
    }
    case 'PasidTableSet':
      fd(state, event.data.fdId).ioasids.update(event.data.ioasid, { pasidTableGpa: event.data.gpa });
      return;
    case 'HwidSet': {
      const f = fd(state, event.data.fdId);
      addPasidUser(f, event.data.pasid, event.data.ioasid);
      countHostPasids(state, f, (event.data.globalPasid !== undefined ? 1 : 0) + (event.data.realPasid !== undefined ? 1 : 0));
      return;
    }
    case 'HwidExposed': {
      const f = fd(state, event.data.fdId);
      f.migratable = false;
      f.migratableReason = event.data.reason;
      return;
    }
    case 'PgtableBound':
      fd(state, event.data.fdId).ioasids.update(event.data.ioasid, { pgtableGpa: event.data.gpa });
      return;
    case 'PgtableReplaced':
      fd(state, event.data.fdId).ioasids.update(event.data.ioasid, { pgtableGpa: event.data.gpa });
      return;
    case 'PgtableUnbound':
      fd(state, event.data.fdId).ioasids.update(event.data.ioasid, { pgtableGpa: undefined });
      return;
    case 'KvmPasidMapped':
    case 'KvmPasidUnmapped':
      // The VM's CPU PASID table lives in the hardware only.
      return;
    case 'MigrationStarted':
      fd(state, event.data.fdId).migration = { migrationId: event.data.migrationId, targetHostId: event.data.targetHostId };
      return;
    case 'MigrationAborted':
      fd(state, event.data.fdId).migration = undefined;
      return;
    case 'FdImported':
      return importFd(state, event.data);
    case 'MigrationImportBarred':
      state.barredImports.add(event.data.migrationId);
      return;
    default: {
      // A type added to HostEvent without a case here does not compile; at run time an unknown type changes nothing, as before.
      const _: never = event;
      return;
    }
  }
}

/** A new host object with `change` (an undefined field left out): the host is replaced, never changed in place (HostState.host). */
function replaceHost(state: HostState, change: Partial<HostSpec>): void {
  const host: HostSpec = { ...state.host!, ...change };
  for (const key of Object.keys(change) as Array<keyof HostSpec>) if (host[key] === undefined) delete host[key];
  state.host = host;
}

/** The device leaves the host's list and joins its removed ones (once per spec): the history's readers still know what the RID was. */
function removeDevice(state: HostState, rid: Rid): void {
  const host = state.host!;
  const device = host.devices.find((d) => d.rid === rid)!;
  const removed = host.removedDevices ?? [];
  const known = removed.some((d) => d.rid === device.rid && d.kind === device.kind && d.pasidBits === device.pasidBits);
  replaceHost(state, { devices: host.devices.filter((d) => d !== device), removedDevices: known ? removed : [...removed, { ...device }] });
}

function fd(state: HostState, fdId: string): FdState {
  return state.fds.get(fdId)!;
}

export function newFd(state: HostState, data: FdIdentity): FdState {
  const f: FdState = {
    fdId: data.fdId,
    tenantId: data.tenantId,
    vmId: data.vmId,
    domainId: data.domainId,
    hwidMode: null,
    globalMin: null,
    migratable: true,
    migratableReason: undefined,
    migration: undefined,
    ioasids: new IoasidTable(state.hw, data.fdId, () => f.hwidMode),
    ioasidFloor: 1,
    ioasidsByPasid: new Map(),
    hostPasids: 0,
  };
  return f;
}

function addFd(state: HostState, data: FdIdentity): FdState {
  const f = newFd(state, data);
  state.fds.set(f.fdId, f);
  usage(state, f.tenantId).fds++;
  return f;
}

function removeFd(state: HostState, fdId: string, released: Released): void {
  const f = fd(state, fdId);
  countHostPasids(state, f, -released.pasids.length);
  state.fds.delete(fdId);
  const u = usage(state, f.tenantId);
  u.fds--;
  if (u.fds === 0 && u.hostPasids === 0) state.tenants.delete(f.tenantId);
}

function usage(state: HostState, tenantId: string) {
  let u = state.tenants.get(tenantId);
  if (!u) {
    u = { fds: 0, hostPasids: 0 };
    state.tenants.set(tenantId, u);
  }
  return u;
}

/** Released host PASIDs belong to the freed ioasid or the closed fd: counted down here. */
function countHostPasids(state: HostState, f: FdState, delta: number): void {
  if (delta === 0) return;
  f.hostPasids += delta;
  usage(state, f.tenantId).hostPasids += delta;
}

function attach(state: HostState, data: EventData<'DeviceAttached'>): void {
  const f = fd(state, data.fdId);
  const attachment: AttachmentView = { vdevId: data.vdevId ?? legacyVdevId(data.ioasid, data.rid, data.mdevId), rid: data.rid, enqcmd: data.enqcmd };
  if (data.mdevId !== undefined) {
    attachment.mdevId = data.mdevId;
    state.nextMdev = Math.max(state.nextMdev, mdevNumber(data.mdevId) + 1);
  }
  f.ioasids.update(data.ioasid, { attachments: [...f.ioasids.get(data.ioasid)!.attachments, attachment] });
  if (data.realPasid !== undefined) countHostPasids(state, f, 1);
}

/** mdev ids are `mdev-<n>`; a foreign form does not move the counter. */
function mdevNumber(mdevId: string): number {
  const n = /^mdev-(\d+)$/.exec(mdevId);
  return n ? Number(n[1]) : 0;
}

function importFd(state: HostState, data: EventData<'FdImported'>): void {
  const f = addFd(state, data);
  state.nextDomainId = Math.max(state.nextDomainId, data.domainId + 1);
  f.hwidMode = data.hwidMode;
  f.globalMin = data.globalMin;
  f.importedBy = data.migrationId;
  for (const src of data.ioasids) {
    const attachments = src.attachments.map((a): AttachmentView => ({ ...a, vdevId: a.vdevId ?? legacyVdevId(src.ioasid, a.rid, a.mdevId) }));
    f.ioasids.update(src.ioasid, { attachments, pgtableGpa: src.pgtableGpa, pasidTableGpa: src.pasidTableGpa });
    if (src.pasid !== undefined) addPasidUser(f, src.pasid, src.ioasid);
    for (const a of attachments) if (a.mdevId !== undefined) state.nextMdev = Math.max(state.nextMdev, mdevNumber(a.mdevId) + 1);
  }
  while (f.ioasids.has(f.ioasidFloor)) f.ioasidFloor++;
  countHostPasids(state, f, data.allocatedPasids.length);
}
