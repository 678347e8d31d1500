import type { EventData, HostEvent } from '../model/events';
import type { DeviceSpec, Released, Rid } from '../model/values';
import { importFd } from './apply-import';
import { checkIoasidId, createFd, setGlobalMin, setHwid } from './apply-steps';
import { HardwareFault } from './fault';
import { ioasidEntry } from './fd-ioasids';
import { PasidSpace } from './pasid-space';
import type { HardwareTransaction } from './transaction';
import type { HwFd, HwRid } from './types';

/** Applies one event through a transaction: every change checked, nothing decided. */
export function applyEvent(tx: HardwareTransaction, event: HostEvent): void {
  if (event.type !== 'HostRegistered') tx.space();
  switch (event.type) {
    case 'HostRegistered':
      return registerHost(tx, event.data);
    case 'DeviceAdded':
      return addDevice(tx, event.data);
    case 'DeviceRemoved':
      return removeDevice(tx, event.data.rid);
    case 'HostCordoned':
    case 'HostUncordoned':
      // Whether the host takes new fds is the decider's to keep; the hardware has nothing of it.
      return;
    case 'HostDecommissioned':
      // I9: a host is retired only once nothing of any fd is left in it (every fd's release already checked that).
      if (tx.s.fds.size > 0) throw new HardwareFault('I9', `decommissioning leaves ${tx.s.fds.size} open fd(s) behind`);
      return;
    case 'FdCreated':
      createFd(tx, event.data);
      return;
    case 'FdClosed':
    case 'FdMigratedOut':
      return closeFd(tx, event.data.fdId, event.data.released);
    case 'HwidModeSet': {
      const fd = tx.fd(event.data.fdId);
      if (fd.hwidMode !== null) throw new HardwareFault('conflict', `fd ${fd.fdId} already has hwid mode ${fd.hwidMode}`);
      tx.journal.assign(fd, 'hwidMode', event.data.mode);
      return;
    }
    case 'GlobalMinSet':
      return setGlobalMin(tx, event.data);
    case 'IoasidAllocated': {
      const fd = tx.fd(event.data.fdId);
      checkIoasidId(event.data.ioasid);
      if (fd.ioasids.has(event.data.ioasid)) throw new HardwareFault('conflict', `fd ${fd.fdId} already has ioasid ${event.data.ioasid}`);
      tx.journal.mapInsert(fd.ioasids, event.data.ioasid, ioasidEntry(0, 0));
      return;
    }
    case 'IoasidFreed':
      return freeIoasid(tx, event.data);
    case 'DeviceAttached':
      return attachDevice(tx, event.data);
    case 'DeviceDetached':
      return detachDevice(tx, event.data);
    case 'PasidTableSet': {
      const fd = tx.fd(event.data.fdId);
      for (const rid of event.data.contexts) tx.setGuestContext(fd, event.data.ioasid, rid, event.data.gpa);
      return;
    }
    case 'HwidSet':
      return setHwid(tx, event.data);
    case 'HwidExposed': {
      const fd = tx.fd(event.data.fdId);
      if (!tx.space().isOwnedBy(event.data.hostPasid, fd.slot, event.data.ioasid, 'real')) {
        throw new HardwareFault('I1', `exposed PASID ${event.data.hostPasid} is not the real PASID of ioasid ${event.data.ioasid}`);
      }
      return;
    }
    case 'PgtableBound': {
      const fd = tx.fd(event.data.fdId);
      tx.ioasid(fd, event.data.ioasid);
      for (const entry of event.data.programmed) {
        if (entry.ioasid !== event.data.ioasid) throw new HardwareFault('malformed-event', `entry of ioasid ${entry.ioasid} in a bind of ${event.data.ioasid}`);
        tx.programEntry(fd, entry);
      }
      return;
    }
    case 'PgtableUnbound': {
      const fd = tx.fd(event.data.fdId);
      tx.ioasid(fd, event.data.ioasid);
      for (const ref of event.data.cleared) tx.clearEntry(fd, ref);
      if (fd.entriesOn.has(event.data.ioasid)) throw new HardwareFault('I9', `unbind leaves entries of ioasid ${event.data.ioasid} behind`);
      return;
    }
    case 'PgtableReplaced': {
      const fd = tx.fd(event.data.fdId);
      tx.ioasid(fd, event.data.ioasid);
      const seen = new Set<string>();
      for (const ref of event.data.repointed) {
        const key = `${ref.rid}|${ref.pasid}`;
        if (seen.has(key)) throw new HardwareFault('malformed-event', `replace lists ${ref.rid} PASID ${ref.pasid} twice`);
        seen.add(key);
        tx.repointEntry(fd, event.data.ioasid, ref, event.data.gpa);
      }
      // Atomic means whole: an entry of the ioasid left on the old table would translate through a page table the guest has let go.
      const held = [...(fd.entriesOn.get(event.data.ioasid)?.values() ?? [])].reduce((n, c) => n + c, 0);
      if (held !== seen.size) throw new HardwareFault('I9', `replace repoints ${seen.size} of the ${held} entries of ioasid ${event.data.ioasid}`);
      return;
    }
    case 'KvmPasidMapped': {
      const fd = fdOfVm(tx, event.data.fdId, event.data.vmId);
      tx.kvmMap(fd, event.data.guestPasid, event.data.hostPasid);
      return;
    }
    case 'KvmPasidUnmapped':
      tx.kvmUnmap(fdOfVm(tx, event.data.fdId, event.data.vmId), event.data.guestPasid);
      return;
    case 'MigrationStarted':
    case 'MigrationAborted':
      tx.fd(event.data.fdId);
      return;
    case 'FdImported':
      return importFd(tx, event.data);
    case 'MigrationImportBarred':
      // The target's decider keeps the bar; the hardware has nothing of it.
      return;
    default: {
      // A type added to HostEvent without a case here does not compile; at run time an unknown type changes nothing, as before.
      const _: never = event;
      return;
    }
  }
}

function registerHost(tx: HardwareTransaction, data: EventData<'HostRegistered'>): void {
  const s = tx.s;
  if (s.host) throw new HardwareFault('conflict', `host ${s.host.hostId} is already registered`);
  if (!Number.isInteger(data.pasidBits) || data.pasidBits < 1 || data.pasidBits > 20) {
    throw new HardwareFault('malformed-event', `host pasidBits ${data.pasidBits} is not in 1..20`);
  }
  const rids = new Map<string, HwRid>();
  for (const d of data.devices) {
    if (rids.has(d.rid)) throw new HardwareFault('malformed-event', `RID ${d.rid} is listed twice`);
    rids.set(d.rid, newRid(d, data.pasidBits));
  }
  const reserved = data.reservedPasids ?? [];
  reserved.forEach((r, i) => {
    const before = reserved[i - 1];
    if (!Number.isInteger(r.from) || !Number.isInteger(r.count) || r.from < 1 || r.count < 1 || r.from + r.count > 2 ** data.pasidBits || (before && r.from < before.from + before.count)) {
      throw new HardwareFault('malformed-event', `reserved PASID ranges must be sorted, disjoint and inside [1, 2^${data.pasidBits}): ${JSON.stringify(r)}`);
    }
  });
  tx.journal.assign(s, 'host', {
    ...data,
    devices: data.devices.map((d) => ({ ...d })),
    ...(data.reservedPasids ? { reservedPasids: data.reservedPasids.map((r) => ({ ...r })) } : {}),
  });
  tx.journal.assign(s, 'space', new PasidSpace(data.pasidBits));
  tx.journal.assign(s, 'rids', rids);
}

/** A RID as a device comes in: host-managed context, no entry, no owner. */
function newRid(d: DeviceSpec, hostPasidBits: number): HwRid {
  if (!Number.isInteger(d.pasidBits) || d.pasidBits < 1 || d.pasidBits > hostPasidBits) {
    throw new HardwareFault('I4', `device ${d.rid} pasidBits ${d.pasidBits} is not in 1..${hostPasidBits}`);
  }
  if (d.kind !== 'vf' && d.kind !== 'siov') throw new HardwareFault('malformed-event', `device ${d.rid} has unknown kind ${String(d.kind)}`);
  return { spec: { rid: d.rid, kind: d.kind, pasidBits: d.pasidBits }, context: { table: 'host' }, pasids: new Map(), vfOwner: null, mdevs: new Map() };
}

/** The host's device list (what the snapshot rebuilds RIDs from, and the hash covers) gains the device at its end, and the hardware its RID. */
function addDevice(tx: HardwareTransaction, data: EventData<'DeviceAdded'>): void {
  const host = tx.s.host!;
  if (tx.s.rids.has(data.rid)) throw new HardwareFault('conflict', `RID ${data.rid} is already a device of this host`);
  const rid = newRid(data, host.pasidBits);
  tx.journal.assign(tx.s, 'host', { ...host, devices: [...host.devices, rid.spec] });
  tx.journal.mapInsert(tx.s.rids, data.rid, rid);
}

/** I9: a RID leaves only when nothing of any fd is on it: no owner, mdev, entry or guest context. */
function removeDevice(tx: HardwareTransaction, ridId: Rid): void {
  const host = tx.s.host!;
  const rid = tx.rid(ridId);
  const left: string[] = [];
  if (rid.vfOwner) left.push(`owner fd ${rid.vfOwner.fdId}`);
  if (rid.mdevs.size) left.push(`${rid.mdevs.size} mdevs`);
  if (rid.pasids.size) left.push(`${rid.pasids.size} entries`);
  if (rid.context.table === 'guest') left.push('a guest PASID table context');
  if (left.length) throw new HardwareFault('I9', `removing RID ${ridId} leaves ${left.join(', ')} behind`);
  tx.journal.assign(tx.s, 'host', { ...host, devices: host.devices.filter((d) => d.rid !== ridId) });
  tx.journal.mapDelete(tx.s.rids, ridId);
}

function applyReleased(tx: HardwareTransaction, fd: HwFd, released: Released): void {
  for (const guestPasid of released.kvmGuestPasids) tx.kvmUnmap(fd, guestPasid);
  for (const ref of released.entries) tx.clearEntry(fd, ref);
  for (const rid of released.contexts) tx.restoreHostContext(fd, rid);
  for (const mdevId of released.mdevs) tx.destroyMdev(fd, mdevId);
  for (const pasid of released.pasids) tx.releasePasid(fd, pasid);
}

/** I9: after close nothing of the fd may remain anywhere in the hardware. */
function closeFd(tx: HardwareTransaction, fdId: string, released: Released): void {
  const s = tx.s;
  const fd = tx.fd(fdId);
  applyReleased(tx, fd, released);
  const left: string[] = [];
  if (fd.heldPasids) left.push(`${fd.heldPasids} PASIDs`);
  if (fd.entries) left.push(`${fd.entries} entries`);
  if (fd.guestContexts) left.push(`${fd.guestContexts} guest contexts`);
  if (fd.mdevs) left.push(`${fd.mdevs} mdevs`);
  if (s.kvm.has(fdId)) left.push(`${s.kvm.get(fdId)!.size} KVM mappings`);
  if (left.length) throw new HardwareFault('I9', `closing fd ${fdId} leaves ${left.join(', ')} behind`);
  for (const perRid of fd.attached.values()) {
    for (const ridId of perRid.keys()) {
      const rid = tx.rid(ridId);
      if (rid.vfOwner?.fdId === fdId) tx.journal.assign(rid, 'vfOwner', null);
    }
  }
  tx.journal.mapDelete(s.fds, fdId);
  tx.journal.mapDelete(s.fdsBySlot, fd.slot);
  tx.releaseVm(fd);
}

function freeIoasid(tx: HardwareTransaction, data: EventData<'IoasidFreed'>): void {
  const fd = tx.fd(data.fdId);
  tx.ioasid(fd, data.ioasid);
  applyReleased(tx, fd, data.released);
  if (fd.attached.has(data.ioasid)) throw new HardwareFault('I9', `ioasid ${data.ioasid} is freed with devices attached`);
  if (fd.entriesOn.has(data.ioasid)) throw new HardwareFault('I9', `freeing ioasid ${data.ioasid} leaves entries behind`);
  const held = fd.ioasids.hostPasidOf(data.ioasid)!;
  if (held !== 0) throw new HardwareFault('I9', `freeing ioasid ${data.ioasid} leaves PASID ${held} allocated`);
  tx.journal.mapDelete(fd.ioasids, data.ioasid);
}

function attachDevice(tx: HardwareTransaction, data: EventData<'DeviceAttached'>): void {
  const fd = tx.fd(data.fdId);
  tx.attach(fd, data.ioasid, data.rid, data.enqcmd, data.mdevId);
  if (data.realPasid !== undefined) {
    if (fd.hwidMode !== 'local') throw new HardwareFault('I5', 'a real PASID belongs to local mode');
    if (tx.ioasid(fd, data.ioasid) === 0) throw new HardwareFault('malformed-event', `ioasid ${data.ioasid} has no hwid to back with a real PASID`);
    tx.takePasid(fd, data.ioasid, data.realPasid, 'real');
  }
  for (const entry of data.programmed) {
    if (entry.rid !== data.rid || entry.ioasid !== data.ioasid) {
      throw new HardwareFault('malformed-event', `attach of ${data.rid} programs ${entry.rid} ioasid ${entry.ioasid}`);
    }
    tx.programEntry(fd, entry);
  }
  if (data.guestPasidTableGpa !== undefined) tx.setGuestContext(fd, data.ioasid, data.rid, data.guestPasidTableGpa);
}

function detachDevice(tx: HardwareTransaction, data: EventData<'DeviceDetached'>): void {
  const fd = tx.fd(data.fdId);
  applyReleased(tx, fd, data.released);
  const kind = tx.rid(data.rid).spec.kind;
  if (kind === 'siov' && (data.mdevId === undefined || !data.released.mdevs.includes(data.mdevId))) {
    throw new HardwareFault('I9', `detaching siov ${data.rid} must destroy its mdev`);
  }
  tx.detach(fd, data.ioasid, data.rid);
}

function fdOfVm(tx: HardwareTransaction, fdId: string, vmId: string): HwFd {
  const fd = tx.fd(fdId);
  if (fd.vmId !== vmId) throw new HardwareFault('I6', `fd ${fdId} belongs to VM ${fd.vmId}, not ${vmId}`);
  return fd;
}
