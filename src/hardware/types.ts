import { FdIoasids } from './fd-ioasids';
import { IntMap } from './int-map';
import type { PasidSpace } from './pasid-space';
import type { DeviceSpec, HostSpec, PasidEntry, PasidOrigin, Rid, RidContext } from '../model/values';
import type { FdIdentity, FdMode } from '../model/views';


export interface HwRid {
  spec: DeviceSpec;
  context: RidContext;
  /** PASID -> its entry (translation type is always nested). */
  pasids: Map<number, PasidEntry>;
  /** vf: the one fd it is attached to, and to how many of that fd's ioasids. */
  vfOwner: { fdId: string; attachments: number } | null;
  /** siov: the mdevs carved out of this parent RID. */
  mdevs: Map<string, { fdId: string; ioasid: number }>;
}

/** Counts per (ioasid, RID) pair: ioasid -> RID -> count; pairs at 0 are removed. */
export type PairCounts = Map<number, Map<Rid, number>>;

export function pairCount(counts: PairCounts, ioasid: number, rid: Rid): number {
  return counts.get(ioasid)?.get(rid) ?? 0;
}

/** An open fd as the hardware holds it: the fd's identity and mode under the fd view's names, and what it holds. */
export interface HwFd extends FdIdentity, FdMode {
  /** Small integer naming the fd in the PASID ownership arrays. */
  slot: number;
  /** Per ioasid, its user PASID (the fd view's `pasid`) and the host PASID it holds; its attachments and entries are counted in attached / entriesOn. */
  ioasids: FdIoasids;
  /** Attachments per (ioasid, RID) pair (a siov RID may carry several mdevs of one ioasid). Kept per fd, and only for pairs that have some, so that a bare ioasid costs a few numbers. */
  attached: PairCounts;
  /** Entries per (ioasid, RID) pair. */
  entriesOn: PairCounts;
  /** Global mode: local PASID -> its global PASID (I5: one to one). */
  localToGlobal: IntMap;
  heldPasids: number;
  entries: number;
  guestContexts: number;
  mdevs: number;
}

/** The identity of an fd in the hardware: what it is opened (or restored from a snapshot) with. */
export type HwFdIdentity = FdIdentity & FdMode & Pick<HwFd, 'slot'>;

/** An fd with nothing attached, held or programmed yet. */
export function emptyHwFd(identity: HwFdIdentity): HwFd {
  return {
    ...identity,
    ioasids: new FdIoasids(),
    attached: new Map(),
    entriesOn: new Map(),
    localToGlobal: new IntMap(),
    heldPasids: 0,
    entries: 0,
    guestContexts: 0,
    mdevs: 0,
  };
}

/** Everything the emulated hardware of one host holds. */
export interface HwState {
  host: HostSpec | null;
  version: number;
  /** Allocator and PASID owners; null until the host is registered. */
  space: PasidSpace | null;
  rids: Map<Rid, HwRid>;
  /** mdevId -> its parent RID. */
  mdevRid: Map<string, Rid>;
  fds: Map<string, HwFd>;
  fdsBySlot: Map<number, HwFd>;
  nextSlot: number;
  /**
   * vmId -> tenantId -> the VM's open fd on this host. A VM belongs to a tenant: two tenants'
   * VMs may share a vmId, and each is one VM with one fd (see vm-key.ts for how views name them).
   */
  fdsOfVmId: Map<string, Map<string, string>>;
  /**
   * Per VM, the CPU PASID translation table (guest PASID -> host PASID) and its reverse, keyed
   * by the fdId of the VM's one fd here: the table lives only while that fd is open (I9), and
   * the fd names exactly one (tenant, VM), so no tenant's table can be reached through another's.
   */
  kvm: Map<string, Map<number, number>>;
  kvmByHostPasid: Map<string, Map<number, number>>;
}

