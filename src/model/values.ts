/** Value types of the domain (DOMAIN.md "Objects"). */

/** A PCI requester ID, e.g. "0000:3b:00.1". */
export type Rid = string;

/** The largest ioasid id: ioasid ids are positive 31-bit integers (the hardware records PASID owners in an Int32Array). */
export const MAX_IOASID = 0x7fffffff;

/**
 * A vmId never contains it (API id pattern, checked again by the decider): the hardware view
 * names a vmId that several tenants use on a host `<tenantId>/<vmId>` (src/hardware/vm-key.ts).
 */
export const VM_KEY_SEPARATOR = '/';
export type DeviceKind = 'vf' | 'siov';

/** What a guest-visible device id (an attachment's vdevId) given at attach may look like (API.md). */
export const VDEV_ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$/;
export const MAX_VDEV_ID_LENGTH = 64;
export type HwidMode = 'local' | 'global';
/** Where a programmed PASID comes from: guest-chosen (local), host-allocated global, or the host's real PASID behind a virtual siov one. */
export type PasidOrigin = 'local' | 'global' | 'real';

export interface DeviceSpec {
  rid: Rid;
  kind: DeviceKind;
  /** PASID width of the device, 1..20 and <= the host's. */
  pasidBits: number;
}

/** A range of host PASIDs [from, from + count). */
export interface PasidRange {
  from: number;
  count: number;
}

export interface HostSpec {
  hostId: string;
  /** PASID width of the host IOMMU, 1..20. */
  pasidBits: number;
  /** The CPUs support ENQCMD with VMX PASID translation. */
  enqcmd: boolean;
  /** The IOMMU can walk a guest-owned PASID table (AMD/ARM style). */
  nestedPasidTable: boolean;
  devices: DeviceSpec[];
  /**
   * Host PASIDs the host kernel keeps for itself (in-kernel ENQCMDS work queues, host SVA):
   * never handed to a VM. Sorted, disjoint, inside [1, 2^pasidBits); absent when none.
   */
  reservedPasids?: PasidRange[];
  /** Cordoned for maintenance (HostCordoned): no new fds, no imports; absent when not. */
  cordoned?: true;
  /** Retired for good (HostDecommissioned): every command is refused, the history stays readable; absent when not. */
  decommissioned?: true;
  /**
   * Devices removed from the host (DeviceRemoved), each spec once, in order of removal; absent
   * when none. Readers of the history need them: a tenant's copy of an event on a RID that was
   * siov when it was written keeps hiding the real PASIDs, whatever the RID is now.
   */
  removedDevices?: DeviceSpec[];
}

/** Per tenant, per host (I8). */
export interface Quotas {
  maxFds: number;
  maxHostPasids: number;
}

export const DEFAULT_QUOTAS: Quotas = { maxFds: 64, maxHostPasids: 4096 };

/** A PASID entry as programmed in a RID's PASID table (nested translation). */
export interface ProgrammedEntry {
  rid: Rid;
  pasid: number;
  origin: PasidOrigin;
  fdId: string;
  ioasid: number;
  /** GPA of the guest's first-stage page table, hex string. */
  firstStageGpa: string;
  /** Second stage: the VM's domain on this host. */
  domainId: number;
}

/** A present entry of a RID's PASID table: a programmed entry without its address (RID, PASID). */
export type PasidEntry = Omit<ProgrammedEntry, 'rid' | 'pasid'>;

/** A RID's IOMMU context: the host-managed PASID table, or a guest-owned one at a GPA. */
export type RidContext = { table: 'host' } | { table: 'guest'; gpa: string; fdId: string; ioasid: number };

export interface EntryRef {
  rid: Rid;
  pasid: number;
}

/** Everything an event takes away from the hardware: listed so that replay applies it and never re-derives it. */
export interface Released {
  /** Host-allocated PASIDs (global or real) returned to the host allocator. */
  pasids: number[];
  /** PASID entries cleared. */
  entries: EntryRef[];
  /** RIDs whose context goes back from a guest PASID table to the host-managed one. */
  contexts: Rid[];
  /** Guest PASIDs removed from the VM's CPU PASID translation table. */
  kvmGuestPasids: number[];
  /** mdevs destroyed. */
  mdevs: string[];
}
