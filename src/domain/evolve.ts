import type { EventData, HostEvent } from './events';
import type { Released } from './model';
import { addPasidUser, removePasidUser } from './pasid-index';
import { NO_ATTACHMENTS, newIoasid, type AttachmentState, type FdState, type HostState, type IoasidState } from './state';

/**
 * Applies one event: first to the emulated hardware (which checks I1-I9 and throws a
 * HardwareFault, changing nothing, if the event breaks one), then to the logical fd model.
 *
 * For speed it MUTATES `state` and returns the same object: the caller owns the state and
 * must not keep an older reference expecting it unchanged (decide never mutates, so the
 * usual decide-then-evolve loop is safe). Nothing is decided here: every id, PASID and
 * release comes from the event.
 */
export function evolve(state: HostState, event: HostEvent): HostState {
  state.hw.apply(event);
  applyLogical(state, event);
  state.version++;
  return state;
}

export function evolveAll(state: HostState, events: Iterable<HostEvent>): HostState {
  for (const event of events) evolve(state, event);
  return state;
}

function applyLogical(state: HostState, event: HostEvent): void {
  switch (event.type) {
    case 'HostRegistered':
      state.host = { ...event.data, devices: event.data.devices.map((d) => ({ ...d })) };
      return;
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
      f.ioasids.set(event.data.ioasid, newIoasid(event.data.ioasid));
      if (event.data.ioasid === f.ioasidFloor) f.ioasidFloor++;
      return;
    }
    case 'IoasidFreed': {
      const f = fd(state, event.data.fdId);
      const io = f.ioasids.get(event.data.ioasid)!;
      releaseHostPasids(state, f, event.data.released);
      if (io.pasid !== undefined) removePasidUser(f, io.pasid!, io.ioasid);
      f.ioasids.delete(io.ioasid);
      f.ioasidFloor = Math.min(f.ioasidFloor, io.ioasid);
      return;
    }
    case 'DeviceAttached':
      return attach(state, event.data);
    case 'DeviceDetached': {
      const io = ioasid(state, event.data.fdId, event.data.ioasid);
      const index = io.attachments.findIndex((a) => a.rid === event.data.rid && a.mdevId === event.data.mdevId);
      io.attachments = io.attachments.length === 1 ? NO_ATTACHMENTS : io.attachments.filter((_, i) => i !== index);
      return;
    }
    case 'PasidTableSet':
      ioasid(state, event.data.fdId, event.data.ioasid).pasidTableGpa = event.data.gpa;
      return;
    case 'HwidSet': {
      const f = fd(state, event.data.fdId);
      const io = f.ioasids.get(event.data.ioasid)!;
      io.pasid = event.data.pasid;
      addPasidUser(f, io.pasid!, io.ioasid);
      if (event.data.globalPasid !== undefined) io.globalPasid = event.data.globalPasid;
      if (event.data.realPasid !== undefined) io.realPasid = event.data.realPasid;
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
      ioasid(state, event.data.fdId, event.data.ioasid).pgtableGpa = event.data.gpa;
      return;
    case 'PgtableUnbound':
      ioasid(state, event.data.fdId, event.data.ioasid).pgtableGpa = undefined;
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
  }
}

function fd(state: HostState, fdId: string): FdState {
  return state.fds.get(fdId)!;
}

function ioasid(state: HostState, fdId: string, id: number): IoasidState {
  return fd(state, fdId).ioasids.get(id)!;
}

function addFd(state: HostState, data: { fdId: string; tenantId: string; vmId: string; domainId: number }): FdState {
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
    ioasids: new Map(),
    ioasidFloor: 1,
    ioasidsByPasid: new Map(),
    hostPasids: 0,
  };
  state.fds.set(f.fdId, f);
  state.fdOfVm.set(f.vmId, f.fdId);
  usage(state, f.tenantId).fds++;
  return f;
}

function removeFd(state: HostState, fdId: string, released: Released): void {
  const f = fd(state, fdId);
  releaseHostPasids(state, f, released);
  state.fds.delete(fdId);
  state.fdOfVm.delete(f.vmId);
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

function countHostPasids(state: HostState, f: FdState, delta: number): void {
  if (delta === 0) return;
  f.hostPasids += delta;
  usage(state, f.tenantId).hostPasids += delta;
}

/** Released host PASIDs belong to the freed ioasid or the closed fd: both leave the model whole. */
function releaseHostPasids(state: HostState, f: FdState, released: Released): void {
  countHostPasids(state, f, -released.pasids.length);
}


function attach(state: HostState, data: EventData<'DeviceAttached'>): void {
  const f = fd(state, data.fdId);
  const io = f.ioasids.get(data.ioasid)!;
  const attachment: AttachmentState = { rid: data.rid, enqcmd: data.enqcmd };
  if (data.mdevId !== undefined) {
    attachment.mdevId = data.mdevId;
    state.nextMdev = Math.max(state.nextMdev, mdevNumber(data.mdevId) + 1);
  }
  io.attachments = [...io.attachments, attachment];
  if (data.realPasid !== undefined) {
    io.realPasid = data.realPasid;
    countHostPasids(state, f, 1);
  }
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
  for (const src of data.ioasids) {
    const io = newIoasid(src.ioasid, src.attachments.map((a) => ({ ...a })));
    io.pasid = src.pasid;
    io.globalPasid = src.globalPasid;
    io.realPasid = src.realPasid;
    io.pgtableGpa = src.pgtableGpa;
    io.pasidTableGpa = src.pasidTableGpa;
    f.ioasids.set(io.ioasid, io);
    if (io.pasid !== undefined) addPasidUser(f, io.pasid!, io.ioasid);
    for (const a of io.attachments) if (a.mdevId !== undefined) state.nextMdev = Math.max(state.nextMdev, mdevNumber(a.mdevId) + 1);
  }
  while (f.ioasids.has(f.ioasidFloor)) f.ioasidFloor++;
  countHostPasids(state, f, data.allocatedPasids.length);
}
