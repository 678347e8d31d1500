import type { DeviceKind, HwidMode, PasidEntry, PasidRange, Rid } from './values';

/**
 * The read shapes of docs/API.md (host, fd, ioasid, hwid) and the names every layer uses for
 * these facts: the decider's state, the events, the snapshots and the hardware derive their
 * fd and ioasid shapes from these (Pick/Omit), rather than restating them.
 */
export interface HostView {
  hostId: string;
  pasidBits: number;
  enqcmd: boolean;
  nestedPasidTable: boolean;
  devices: Array<{ rid: Rid; kind: DeviceKind; pasidBits: number }>;
  /** Host PASIDs never handed to a VM; `[]` when none. */
  reservedPasids: PasidRange[];
  /** No new fds or imports (HOST_CORDONED) until uncordoned; the open fds keep working. */
  cordoned: boolean;
  /** Retired: every command is refused (HOST_DECOMMISSIONED); the history stays readable. */
  decommissioned: boolean;
  version: number;
}

/** Who the caller of the API is (GET /v1/whoami): the operator, or a tenant by id and name. */
export type WhoAmIView = { role: 'operator' } | { role: 'tenant'; tenantId: string; name: string };

/** What `verify` answers: the stored stream checked and replayed, up to the first event that fails. */
export interface VerifyResult {
  ok: boolean;
  /** The last version replayed. */
  version: number;
  /** The hardware hash of the replay at that version. */
  hash: string;
  /** The first event that is missing, altered or refused by the hardware, or the live version that disagrees. */
  firstBadVersion?: number;
  reason?: string;
}

export interface AttachmentView {
  /**
   * The guest-visible device id of this attachment: given at attach or assigned by the host
   * (`vdev-<n>`), unique within the fd, kept across migration (the guest's "which device is which").
   */
  vdevId: string;
  rid: Rid;
  enqcmd: boolean;
  /** siov: the mdev carved out for this attachment. */
  mdevId?: string;
}

export interface IoasidView {
  ioasid: number;
  /** The user (guest) PASID, once the hwid is set. */
  pasid?: number;
  /** Global mode: the host-allocated global PASID behind `pasid`. */
  globalPasid?: number;
  pgtableGpa?: string;
  pasidTableGpa?: string;
  attachments: AttachmentView[];
}

/** An ioasid with every PASID it holds: the view plus the real PASID that local mode keeps behind a siov hwid (never shown). */
export type IoasidRecord = IoasidView & {
  /** Local mode with siov: the host's real PASID behind the user PASID. */
  realPasid?: number;
};

export interface FdView {
  fdId: string;
  tenantId: string;
  hostId: string;
  vmId: string;
  hwidMode: HwidMode | null;
  globalMin: number | null;
  migratable: boolean;
  migratableReason?: string;
  /** Set while a migration holds the fd frozen. */
  migratingTo?: string;
  ioasids: IoasidView[];
  kvmMappings: Array<{ guestPasid: number; hostPasid: number }>;
  /** The host stream version this view was read at. */
  version: number;
}

/** What an fd is opened with on a host (FdCreated): who owns it, for which VM, and the VM's second-stage domain there. */
export type FdIdentity = Pick<FdView, 'fdId' | 'tenantId' | 'vmId'> & { domainId: number };

/** The hwid mode and its split: set after the fd is opened, fixed once set. */
export type FdMode = Pick<FdView, 'hwidMode' | 'globalMin'>;

export interface HwidView {
  ioasid: number;
  pasid: number;
  hostPasid: number;
}

/**
 * The guest-visible state of an fd: what migrates (DOMAIN.md op 12). Host PASIDs (global,
 * real) are deliberately absent: the target re-allocates them.
 */
export type FdImage = Pick<FdView, 'vmId'> &
  FdMode & {
    ioasids: Array<
      Pick<IoasidView, 'ioasid' | 'pasid' | 'pgtableGpa' | 'pasidTableGpa'> & {
        /**
         * Attachments by source RID; the migration's device map turns them into target RIDs.
         * With each, the source device's profile the guest was shown: `kind` and `pasidBits`,
         * which the target device must match (same kind, at least as wide), and `enqcmd`; the
         * guest PASID table is the ioasid's `pasidTableGpa`. `vdevId`, `kind` and `pasidBits`
         * are absent from images of earlier releases.
         */
        attachments: Array<Pick<AttachmentView, 'rid' | 'enqcmd'> & Partial<Pick<AttachmentView, 'vdevId'>> & { kind?: DeviceKind; pasidBits?: number }>;
      }
    >;
    /** Guest PASIDs with a KVM PASID mapping: re-pointed on the target at the new global PASID. */
    kvmGuestPasids: number[];
  };

/** An entry as the hardware view shows it (translation type always nested). */
export type EntryView = PasidEntry & { pgtt: 'nested' };

/** API.md's hardware view (GET /v1/hosts/{hostId}/hardware): the hardware module's view of itself, which the console reads too. */
export interface HardwareView {
  hostId: string | null;
  version: number;
  hash: string;
  rids: Record<Rid, { context: { table: 'host' } | { table: 'guest'; gpa: string }; pasids: Record<string, EntryView> }>;
  /** Per VM, its CPU PASID table; keyed by vmId, or by `<tenantId>/<vmId>` for a vmId two tenants use here (vm-key.ts). */
  vms: Record<string, Record<string, number>>;
  /** `free` leaves the reserved PASIDs out; `reserved`: the host kernel's ranges, never handed out. */
  allocator: { used: number; free: number; reserved: PasidRange[] };
}

export type MigrationState = 'running' | 'completed' | 'aborted';

/** GET /v1/migrations/{id}: one migration as the API shows it. */
export interface MigrationRecord {
  migrationId: string;
  fdId: string;
  sourceHostId: string;
  targetHostId: string;
  state: MigrationState;
  /** Set once the target has imported the fd. */
  targetFdId?: string;
  /** Why it was aborted. */
  reason?: string;
  startedAt: string;
  endedAt?: string;
}
