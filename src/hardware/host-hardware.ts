import type { HostEvent } from '../model/events';
import type { PasidEntry, Rid, RidContext } from '../model/values';
import { applyEvent } from './apply-event';
import { HardwareFault } from './fault';
import { hardwareHash } from './canonical-form';
import { hardwareFootprint } from './footprint';
import { hardwareView } from './inspect';
import type { PasidAllocator } from './allocator';
import { emptyHwState, fromSnapshot, toSnapshot, type LoadableHardwareSnapshot, type HardwareSnapshot } from './snapshot';
import { HardwareTransaction } from './transaction';
import type { FdIoasids } from './fd-ioasids';
import type { HardwareView } from '../model/views';
import type { HwState } from './types';

/**
 * The emulated hardware of one host (DOMAIN.md "The emulated hardware layer"). It only
 * applies events, checking I1-I9 as it goes; an event that would break one throws a
 * HardwareFault and leaves the state exactly as it was.
 */
export class HostHardware {
  /** One transaction (and its reusable undo log) for the life of the hardware. */
  private readonly tx: HardwareTransaction;

  private constructor(private readonly s: HwState) {
    this.tx = new HardwareTransaction(s);
  }

  static empty(): HostHardware {
    return new HostHardware(emptyHwState());
  }

  /** Loads every format this release reads (snapshot.ts): those of earlier releases too. */
  static fromSnapshot(snapshot: LoadableHardwareSnapshot): HostHardware {
    return new HostHardware(fromSnapshot(snapshot));
  }

  /** Events applied. */
  get version(): number {
    return this.s.version;
  }

  apply(event: HostEvent): void {
    try {
      applyEvent(this.tx, event);
      this.tx.journal.commit();
    } catch (e) {
      this.tx.journal.rollback();
      if (e instanceof HardwareFault) throw e;
      throw new HardwareFault('malformed-event', `${event.type} could not be applied: ${e instanceof Error ? e.message : String(e)}`);
    }
    this.s.version++;
  }

  view(): HardwareView {
    return hardwareView(this.s, this.hash());
  }

  /** SHA-256 hex of the canonical form of the whole hardware state (version excluded; see canonical-form.ts). */
  hash(): string {
    return hardwareHash(this.s);
  }

  pasidsInUse(): number {
    return this.s.space?.allocator.used ?? 0;
  }

  /** Approximate heap bytes of this hardware (what a host cache counts); grows with what the host holds. */
  approximateBytes(): number {
    return hardwareFootprint(this.s);
  }

  toSnapshot(): HardwareSnapshot {
    return toSnapshot(this.s);
  }

  // Read access for the decider (the HardwarePort that src/domain declares; src/composition
  // injects this class there): it reads the allocator and PASID tables here instead of
  // keeping a twin of them. Callers must not mutate what they get.

  /** The host allocator; null before the host is registered. Read it, never alloc on it. */
  get allocator(): PasidAllocator | null {
    return this.s.space?.allocator ?? null;
  }

  entryAt(rid: Rid, pasid: number): PasidEntry | undefined {
    return this.s.rids.get(rid)?.pasids.get(pasid);
  }

  contextOf(rid: Rid): RidContext | undefined {
    return this.s.rids.get(rid)?.context;
  }

  /** The fd a vf RID is attached to. */
  vfOwnerOf(rid: Rid): string | undefined {
    return this.s.rids.get(rid)?.vfOwner?.fdId;
  }

  /** Every fd holding something on a RID: its vf owner, its mdevs' fds, its entries' fds, a guest context's fd; sorted. */
  fdsOnRid(rid: Rid): string[] {
    const r = this.s.rids.get(rid);
    if (!r) return [];
    const fds = new Set<string>();
    if (r.vfOwner) fds.add(r.vfOwner.fdId);
    for (const m of r.mdevs.values()) fds.add(m.fdId);
    for (const e of r.pasids.values()) fds.add(e.fdId);
    if (r.context.table === 'guest') fds.add(r.context.fdId);
    return [...fds].sort();
  }

  /** An fd's ioasids as the hardware holds them (user PASID and host PASID, 0 when unset), by ascending id. */
  ioasidsOf(fdId: string): ReadonlyFdIoasids | undefined {
    return this.s.fds.get(fdId)?.ioasids;
  }

  /** Global mode: the ioasid whose hwid is this local PASID. */
  ioasidOfLocalPasid(fdId: string, localPasid: number): number | undefined {
    const fd = this.s.fds.get(fdId);
    const global = fd?.localToGlobal.get(localPasid);
    return global === undefined ? undefined : this.s.space!.ownerOf(global)!.ioasid;
  }

  /** Global mode: whether any ioasid of the fd has a hwid (then the split is locked, I5). */
  hasGlobalHwid(fdId: string): boolean {
    return (this.s.fds.get(fdId)?.localToGlobal.size ?? 0) > 0;
  }

  /** The open fd of a VM on this host; a VM is (tenant, vmId), so another tenant's VM of the same vmId is not it. */
  fdOfVm(tenantId: string, vmId: string): string | undefined {
    return this.s.fdsOfVmId.get(vmId)?.get(tenantId);
  }

  /** The CPU PASID table (guest -> host) of the VM whose fd this is. */
  kvmMappingsOf(fdId: string): ReadonlyMap<number, number> {
    return this.s.kvm.get(fdId) ?? NO_MAPPINGS;
  }
}

/** What readers get of an fd's ioasids: no set or delete. */
export type ReadonlyFdIoasids = Pick<FdIoasids, 'size' | 'has' | 'pasidOf' | 'hostPasidOf' | 'forEach' | 'keys'>;

const NO_MAPPINGS: ReadonlyMap<number, number> = new Map();

export function replayHardware(events: Iterable<HostEvent>): HostHardware {
  const hw = HostHardware.empty();
  for (const event of events) hw.apply(event);
  return hw;
}
