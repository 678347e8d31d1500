import type { EntryRef, ProgrammedEntry, Rid } from '../model/values';
import { HardwareFault } from './fault';
import { ioasidEntry } from './fd-ioasids';
import { Journal } from './journal';
import type { PasidSpace } from './pasid-space';
import { pairCount, type HwFd, type HwRid, type HwState, type PairCounts } from './types';

/**
 * The checked mutations of the emulated hardware. Each one verifies the invariant it could
 * break (DOMAIN.md I1-I9) before it changes anything and records its undo in the journal,
 * so that one faulting step rolls the whole event back.
 */
export class HardwareTransaction {
  readonly journal = new Journal();

  constructor(readonly s: HwState) {}

  space(): PasidSpace {
    if (!this.s.space) throw new HardwareFault('unknown-host', 'the host is not registered');
    return this.s.space;
  }

  fd(fdId: string): HwFd {
    const fd = this.s.fds.get(fdId);
    if (!fd) throw new HardwareFault('unknown-fd', `fd ${fdId} is not open on this host`);
    return fd;
  }

  /** The user PASID of the ioasid (0 before its hwid is set); faults when the fd has no such ioasid. */
  ioasid(fd: HwFd, ioasid: number): number {
    const pasid = fd.ioasids.pasidOf(ioasid);
    if (pasid === undefined) throw new HardwareFault('unknown-ioasid', `fd ${fd.fdId} has no ioasid ${ioasid}`);
    return pasid;
  }

  /** Sets the user PASID and host PASID of an ioasid the fd has. */
  setIoasid(fd: HwFd, ioasid: number, pasid: number, hostPasid: number): void {
    this.journal.mapSet(fd.ioasids, ioasid, ioasidEntry(pasid, hostPasid));
  }

  rid(rid: Rid): HwRid {
    const rec = this.s.rids.get(rid);
    if (!rec) throw new HardwareFault('unknown-rid', `RID ${rid} is not a device of this host`);
    return rec;
  }

  /** I1: a host-allocated PASID is unique on the host and in [1, 2^host.pasidBits). */
  takePasid(fd: HwFd, ioasid: number, pasid: number, origin: 'global' | 'real'): void {
    const space = this.space();
    const localPasid = this.ioasid(fd, ioasid);
    if (!Number.isInteger(pasid) || pasid < 1 || pasid >= space.size) {
      throw new HardwareFault('I1', `PASID ${pasid} is outside the host range [1, ${space.size})`);
    }
    if (space.allocator.isUsed(pasid)) throw new HardwareFault('I1', `PASID ${pasid} is already allocated on this host`);
    if (this.s.host?.reservedPasids?.some((r) => pasid >= r.from && pasid < r.from + r.count)) {
      throw new HardwareFault('I1', `PASID ${pasid} is reserved for the host kernel: never handed to a VM`);
    }
    const held = fd.ioasids.hostPasidOf(ioasid)!;
    if (held !== 0) {
      throw new HardwareFault('I1', `ioasid ${ioasid} of fd ${fd.fdId} already holds host PASID ${held}`);
    }
    space.take(pasid, { slot: fd.slot, ioasid, origin });
    this.journal.record(space, pasid, undefined);
    this.setIoasid(fd, ioasid, localPasid, pasid);
    this.journal.assign(fd, 'heldPasids', fd.heldPasids + 1);
    if (origin === 'global') {
      if (fd.localToGlobal.has(localPasid)) {
        throw new HardwareFault('I5', `local PASID ${localPasid} of fd ${fd.fdId} already has a global PASID`);
      }
      this.journal.mapSet(fd.localToGlobal, localPasid, pasid);
    }
  }

  releasePasid(fd: HwFd, pasid: number): void {
    const space = this.space();
    const owner = space.ownerOf(pasid);
    if (!owner || owner.slot !== fd.slot) {
      throw new HardwareFault('I1', `PASID ${pasid} released by fd ${fd.fdId}, which does not hold it`);
    }
    const localPasid = this.ioasid(fd, owner.ioasid);
    const mappedBy = this.s.kvmByHostPasid.get(fd.fdId)?.get(pasid);
    if (mappedBy !== undefined) {
      throw new HardwareFault('I6', `PASID ${pasid} is released while guest PASID ${mappedBy} of VM ${fd.vmId} still maps to it`);
    }
    space.give(pasid);
    this.journal.record(space, pasid, owner);
    this.setIoasid(fd, owner.ioasid, localPasid, 0);
    this.journal.assign(fd, 'heldPasids', fd.heldPasids - 1);
    if (owner.origin === 'global') this.journal.mapDelete(fd.localToGlobal, localPasid);
  }

  programEntry(fd: HwFd, e: ProgrammedEntry): void {
    const rid = this.rid(e.rid);
    const localPasid = this.ioasid(fd, e.ioasid);
    if (e.fdId !== fd.fdId || e.domainId !== fd.domainId) {
      throw new HardwareFault('malformed-event', `entry on ${e.rid} PASID ${e.pasid} names fd ${e.fdId}/domain ${e.domainId}, not fd ${fd.fdId}/domain ${fd.domainId}`);
    }
    if (pairCount(fd.attached, e.ioasid, e.rid) === 0) {
      throw new HardwareFault('malformed-event', `fd ${fd.fdId} ioasid ${e.ioasid} programs RID ${e.rid}, which is not attached to it`);
    }
    if (rid.context.table !== 'host') {
      throw new HardwareFault('I2', `RID ${e.rid} uses a guest PASID table: no per-PASID entry may be programmed on it`);
    }
    if (!Number.isInteger(e.pasid) || e.pasid < 1 || e.pasid >= 2 ** rid.spec.pasidBits) {
      throw new HardwareFault('I4', `PASID ${e.pasid} is over the ${rid.spec.pasidBits}-bit width of ${e.rid}`);
    }
    const present = rid.pasids.get(e.pasid);
    if (present) {
      throw new HardwareFault('I2', `RID ${e.rid} PASID ${e.pasid} already holds an entry of fd ${present.fdId} ioasid ${present.ioasid}`);
    }
    this.checkOrigin(fd, localPasid, rid, e);
    this.journal.mapInsert(rid.pasids, e.pasid, {
      fdId: e.fdId,
      ioasid: e.ioasid,
      origin: e.origin,
      firstStageGpa: e.firstStageGpa,
      domainId: e.domainId,
    });
    this.countPair(fd.entriesOn, e.ioasid, e.rid, 1);
    this.journal.assign(fd, 'entries', fd.entries + 1);
  }

  /** The entry at `ref` (of this fd and ioasid) now walks the guest page table at `gpa`. */
  repointEntry(fd: HwFd, ioasid: number, ref: EntryRef, gpa: string): void {
    const rid = this.rid(ref.rid);
    const entry = rid.pasids.get(ref.pasid);
    if (!entry || entry.fdId !== fd.fdId || entry.ioasid !== ioasid) {
      throw new HardwareFault('I2', `fd ${fd.fdId} ioasid ${ioasid} repoints RID ${ref.rid} PASID ${ref.pasid}, which holds no entry of it`);
    }
    this.journal.mapSet(rid.pasids, ref.pasid, { ...entry, firstStageGpa: gpa });
  }

  clearEntry(fd: HwFd, ref: EntryRef): void {
    const rid = this.rid(ref.rid);
    const entry = rid.pasids.get(ref.pasid);
    if (!entry || entry.fdId !== fd.fdId) {
      throw new HardwareFault('I9', `fd ${fd.fdId} clears RID ${ref.rid} PASID ${ref.pasid}, which holds no entry of it`);
    }
    this.ioasid(fd, entry.ioasid);
    this.journal.mapDelete(rid.pasids, ref.pasid);
    this.countPair(fd.entriesOn, entry.ioasid, ref.rid, -1);
    this.journal.assign(fd, 'entries', fd.entries - 1);
  }

  attach(fd: HwFd, ioasid: number, ridId: Rid, enqcmd: boolean, mdevId: string | undefined): void {
    const rid = this.rid(ridId);
    this.ioasid(fd, ioasid);
    if (enqcmd && (fd.hwidMode !== 'global' || !this.s.host?.enqcmd)) {
      throw new HardwareFault('I7', `enqcmd attachment of ${ridId} needs global mode on an enqcmd host`);
    }
    if (rid.context.table === 'guest') {
      throw new HardwareFault('I2', `RID ${ridId} uses the guest PASID table of ioasid ${rid.context.ioasid}: it cannot serve another ioasid`);
    }
    if (rid.spec.kind === 'vf') {
      if (mdevId !== undefined) throw new HardwareFault('I3', `vf RID ${ridId} cannot carry an mdev`);
      if (rid.vfOwner && rid.vfOwner.fdId !== fd.fdId) {
        throw new HardwareFault('I3', `vf RID ${ridId} is already attached to fd ${rid.vfOwner.fdId}`);
      }
      if (pairCount(fd.attached, ioasid, ridId) > 0) throw new HardwareFault('I3', `vf RID ${ridId} is already attached to ioasid ${ioasid}`);
      this.journal.assign(rid, 'vfOwner', { fdId: fd.fdId, attachments: (rid.vfOwner?.attachments ?? 0) + 1 });
    } else {
      if (mdevId === undefined) throw new HardwareFault('I3', `siov RID ${ridId} is attached without an mdev`);
      if (this.s.mdevRid.has(mdevId)) throw new HardwareFault('I3', `mdev ${mdevId} already exists`);
      this.journal.mapSet(rid.mdevs, mdevId, { fdId: fd.fdId, ioasid });
      this.journal.mapSet(this.s.mdevRid, mdevId, ridId);
      this.journal.assign(fd, 'mdevs', fd.mdevs + 1);
    }
    this.countPair(fd.attached, ioasid, ridId, 1);
  }

  /** Takes one attachment of (ioasid, rid) away; what it owned must already be released (I9). */
  detach(fd: HwFd, ioasid: number, ridId: Rid): void {
    const rid = this.rid(ridId);
    this.ioasid(fd, ioasid);
    if (pairCount(fd.attached, ioasid, ridId) === 0) throw new HardwareFault('I9', `RID ${ridId} is not attached to ioasid ${ioasid} of fd ${fd.fdId}`);
    const left = this.countPair(fd.attached, ioasid, ridId, -1);
    if (left === 0 && pairCount(fd.entriesOn, ioasid, ridId) > 0) {
      throw new HardwareFault('I9', `detaching ${ridId} leaves ${pairCount(fd.entriesOn, ioasid, ridId)} entries of ioasid ${ioasid} behind`);
    }
    if (rid.spec.kind === 'vf') {
      const owner = rid.vfOwner!;
      if (rid.context.table === 'guest' && rid.context.ioasid === ioasid) {
        throw new HardwareFault('I9', `detaching ${ridId} leaves its context on the guest PASID table`);
      }
      this.journal.assign(rid, 'vfOwner', owner.attachments > 1 ? { fdId: fd.fdId, attachments: owner.attachments - 1 } : null);
    }
  }

  destroyMdev(fd: HwFd, mdevId: string): { rid: Rid; ioasid: number } {
    const ridId = this.s.mdevRid.get(mdevId);
    const mdev = ridId === undefined ? undefined : this.rid(ridId).mdevs.get(mdevId);
    if (ridId === undefined || !mdev || mdev.fdId !== fd.fdId) {
      throw new HardwareFault('I9', `fd ${fd.fdId} destroys mdev ${mdevId}, which it does not own`);
    }
    this.journal.mapDelete(this.rid(ridId).mdevs, mdevId);
    this.journal.mapDelete(this.s.mdevRid, mdevId);
    this.journal.assign(fd, 'mdevs', fd.mdevs - 1);
    return { rid: ridId, ioasid: mdev.ioasid };
  }

  setGuestContext(fd: HwFd, ioasid: number, ridId: Rid, gpa: string): void {
    const rid = this.rid(ridId);
    this.ioasid(fd, ioasid);
    if (rid.spec.kind !== 'vf') throw new HardwareFault('I3', `siov RID ${ridId} needs its PASID table in host memory`);
    if (pairCount(fd.attached, ioasid, ridId) === 0) throw new HardwareFault('malformed-event', `RID ${ridId} is not attached to ioasid ${ioasid} of fd ${fd.fdId}`);
    if (rid.context.table !== 'host') throw new HardwareFault('I2', `RID ${ridId} already uses a guest PASID table`);
    if (rid.pasids.size > 0) throw new HardwareFault('I2', `RID ${ridId} still has ${rid.pasids.size} PASID entries`);
    this.journal.assign(rid, 'context', { table: 'guest', gpa, fdId: fd.fdId, ioasid });
    this.journal.assign(fd, 'guestContexts', fd.guestContexts + 1);
  }

  restoreHostContext(fd: HwFd, ridId: Rid): void {
    const rid = this.rid(ridId);
    if (rid.context.table !== 'guest' || rid.context.fdId !== fd.fdId) {
      throw new HardwareFault('I9', `fd ${fd.fdId} restores the context of ${ridId}, which is not on its guest table`);
    }
    this.journal.assign(rid, 'context', { table: 'host' });
    this.journal.assign(fd, 'guestContexts', fd.guestContexts - 1);
  }

  /** I6: a VM's CPU translation points only at a global PASID its fd holds for that guest PASID. */
  kvmMap(fd: HwFd, guestPasid: number, hostPasid: number): void {
    if (!this.s.host?.enqcmd) throw new HardwareFault('I7', 'KVM PASID translation needs an enqcmd host');
    if (fd.hwidMode !== 'global') throw new HardwareFault('I6', `fd ${fd.fdId} is not in global mode`);
    if (fd.localToGlobal.get(guestPasid) !== hostPasid) {
      throw new HardwareFault('I6', `fd ${fd.fdId} holds no global PASID ${hostPasid} for guest PASID ${guestPasid}`);
    }
    const table = this.innerMap(this.s.kvm, fd.fdId);
    if (table.has(guestPasid)) throw new HardwareFault('I6', `VM ${fd.vmId} already maps guest PASID ${guestPasid}`);
    this.journal.mapSet(table, guestPasid, hostPasid);
    this.journal.mapSet(this.innerMap(this.s.kvmByHostPasid, fd.fdId), hostPasid, guestPasid);
  }

  kvmUnmap(fd: HwFd, guestPasid: number): void {
    const table = this.s.kvm.get(fd.fdId);
    const hostPasid = table?.get(guestPasid);
    if (!table || hostPasid === undefined) {
      throw new HardwareFault('I9', `VM ${fd.vmId} has no KVM mapping for guest PASID ${guestPasid}`);
    }
    this.deleteInner(this.s.kvm, fd.fdId, guestPasid);
    this.deleteInner(this.s.kvmByHostPasid, fd.fdId, hostPasid);
  }

  /** One open fd per VM on a host, a VM being (tenant, vmId): another tenant's VM of the same vmId is another VM. */
  claimVm(fd: HwFd): void {
    const other = this.s.fdsOfVmId.get(fd.vmId)?.get(fd.tenantId);
    if (other !== undefined) throw new HardwareFault('conflict', `VM ${fd.vmId} of tenant ${fd.tenantId} already has fd ${other} on this host`);
    this.journal.mapSet(this.innerMap(this.s.fdsOfVmId, fd.vmId), fd.tenantId, fd.fdId);
  }

  releaseVm(fd: HwFd): void {
    this.deleteInner(this.s.fdsOfVmId, fd.vmId, fd.tenantId);
  }

  private countPair(counts: PairCounts, ioasid: number, rid: Rid, delta: number): number {
    let perRid = counts.get(ioasid);
    if (!perRid) {
      perRid = new Map();
      this.journal.mapInsert(counts, ioasid, perRid);
    }
    const next = this.journal.count(perRid, rid, delta);
    if (perRid.size === 0) this.journal.mapDelete(counts, ioasid);
    return next;
  }

  /** The inner map of `outer` at `key`, created (journaled) when absent. */
  private innerMap<K, V>(outer: Map<string, Map<K, V>>, key: string): Map<K, V> {
    let inner = outer.get(key);
    if (!inner) {
      inner = new Map();
      this.journal.mapSet(outer, key, inner);
    }
    return inner;
  }

  /** Deletes `innerKey` from the inner map at `key`, and the inner map once it is empty. */
  private deleteInner<K, V>(outer: Map<string, Map<K, V>>, key: string, innerKey: K): void {
    const inner = outer.get(key);
    if (!inner) return;
    this.journal.mapDelete(inner, innerKey);
    if (inner.size === 0) this.journal.mapDelete(outer, key);
  }

  /** I3 (guest PASIDs only on vf RIDs), I5 (local < globalMin <= global) and ownership of host PASIDs. */
  private checkOrigin(fd: HwFd, localPasid: number, rid: HwRid, e: ProgrammedEntry): void {
    if (e.origin === 'local') {
      if (rid.spec.kind !== 'vf') throw new HardwareFault('I3', `guest PASID ${e.pasid} programmed on siov RID ${e.rid}`);
      if (e.pasid !== localPasid) {
        throw new HardwareFault('malformed-event', `local entry at PASID ${e.pasid} but ioasid ${e.ioasid} has user PASID ${localPasid}`);
      }
      if (fd.hwidMode === 'global' && fd.globalMin !== null && e.pasid >= fd.globalMin) {
        throw new HardwareFault('I5', `local PASID ${e.pasid} is not below globalMin ${fd.globalMin}`);
      }
      return;
    }
    if (!this.space().isOwnedBy(e.pasid, fd.slot, e.ioasid, e.origin)) {
      throw new HardwareFault('I1', `${e.origin} PASID ${e.pasid} is not held by fd ${fd.fdId} ioasid ${e.ioasid}`);
    }
  }
}
