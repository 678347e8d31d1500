import type { HostEvent } from '../model/events';
import type { PasidEntry, Rid, RidContext } from '../model/values';

/** An fd's ioasids as the hardware holds them: for each, its user PASID and the host PASID it holds, 0 when unset. */
export interface HardwareIoasids {
  readonly size: number;
  has(ioasid: number): boolean;
  /** undefined when the fd has no such ioasid. */
  pasidOf(ioasid: number): number | undefined;
  hostPasidOf(ioasid: number): number | undefined;
  /** By ascending id. */
  forEach(visit: (ioasid: number, pasid: number, hostPasid: number) => void): void;
  /** Ascending. */
  keys(): IterableIterator<number>;
}

/**
 * What the decider reads of a host's emulated hardware instead of keeping a twin of it
 * (allocator, PASID tables, contexts, KVM tables, the ioasids' PASIDs). Declared here, by its
 * reader: src/hardware's HostHardware implements it, and whoever composes a HostState
 * (src/composition) injects it. Callers must not mutate what they get.
 */
export interface HardwareReads {
  /** The host allocator; null before the host is registered. Read it, never alloc on it. */
  readonly allocator: { lowestFree(min: number, max: number): number | undefined } | null;
  entryAt(rid: Rid, pasid: number): Readonly<PasidEntry> | undefined;
  contextOf(rid: Rid): Readonly<RidContext> | undefined;
  /** The fd a vf RID is attached to. */
  vfOwnerOf(rid: Rid): string | undefined;
  /** Every fd holding something on a RID (a vf's owner, a siov's mdevs, a programmed entry, a guest PASID table context), sorted; [] for a free or unknown RID. */
  fdsOnRid(rid: Rid): string[];
  ioasidsOf(fdId: string): HardwareIoasids | undefined;
  /** Global mode: the ioasid whose hwid is this local PASID. */
  ioasidOfLocalPasid(fdId: string, localPasid: number): number | undefined;
  /** Global mode: whether any ioasid of the fd has a hwid. */
  hasGlobalHwid(fdId: string): boolean;
  /** The open fd of a VM (tenant, vmId) on this host. */
  fdOfVm(tenantId: string, vmId: string): string | undefined;
  /** The CPU PASID table (guest -> host) of the VM whose fd this is. */
  kvmMappingsOf(fdId: string): ReadonlyMap<number, number>;
}

/** The hardware as evolve uses it: read, and applied each event first (it faults, changing nothing, on a broken invariant). */
export interface HardwarePort extends HardwareReads {
  apply(event: HostEvent): void;
}
