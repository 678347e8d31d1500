import type { DeviceSpec, EntryRef, HwidMode, PasidRange, ProgrammedEntry, Released, Rid } from './values';
import type { AttachmentView, FdIdentity, FdMode, FdView, IoasidRecord } from './views';

/** An attachment as an event stores it: `vdevId` is absent in events of earlier releases. */
export type StoredAttachment = Omit<AttachmentView, 'vdevId'> & Partial<Pick<AttachmentView, 'vdevId'>>;

/**
 * Events of a host stream: the public event contract (API.md "Events"), payload part.
 * Each carries every decision made (allocated PASIDs, ids, programmed entries) and
 * every release, so that evolve and the hardware layer only apply, never decide.
 * Adding an optional field is compatible; anything else bumps EVENT_SCHEMA_VERSION.
 */
export const EVENT_SCHEMA_VERSION = 1;

export type HostEvent =
  /** `reservedPasids` only when the host reserves some (and never in events of earlier releases). */
  | { type: 'HostRegistered'; data: { hostId: string; pasidBits: number; enqcmd: boolean; nestedPasidTable: boolean; devices: DeviceSpec[]; reservedPasids?: PasidRange[] } }
  /** A device hot-added to the host: the hardware gains the RID, with a host-managed context and no entry. */
  | { type: 'DeviceAdded'; data: { hostId: string } & DeviceSpec }
  /** A device hot-removed: nothing held it (no vf owner, mdev, entry or guest context); the hardware loses the RID. */
  | { type: 'DeviceRemoved'; data: { hostId: string; rid: Rid } }
  /** No new fds or imports from now on; the open fds keep working and may migrate out. */
  | { type: 'HostCordoned'; data: { hostId: string } }
  | { type: 'HostUncordoned'; data: { hostId: string } }
  /** The host's last event: it had no open fd, and every later command is refused (HOST_DECOMMISSIONED). */
  | { type: 'HostDecommissioned'; data: { hostId: string } }
  | { type: 'FdCreated'; data: FdIdentity }
  | { type: 'FdClosed'; data: { fdId: string; released: Released } }
  | { type: 'HwidModeSet'; data: { fdId: string; mode: HwidMode } }
  | { type: 'GlobalMinSet'; data: { fdId: string; globalMin: number } }
  | { type: 'IoasidAllocated'; data: { fdId: string; ioasid: number } }
  | { type: 'IoasidFreed'; data: { fdId: string; ioasid: number; released: Released } }
  | {
      type: 'DeviceAttached';
      data: {
        fdId: string;
        ioasid: number;
        rid: Rid;
        enqcmd: boolean;
        /** The attachment's guest-visible device id; absent in events of earlier releases (evolve derives it: domain/vdev-id.ts). */
        vdevId?: string;
        /** siov: the mdev created for this attach. */
        mdevId?: string;
        /** siov in local mode on an ioasid whose hwid is set but has no real PASID yet: allocated now. */
        realPasid?: number;
        /** Entries programmed now because the ioasid already has a bound page table. */
        programmed: ProgrammedEntry[];
        /** The ioasid has a guest PASID table: this vf RID's context now points at it. */
        guestPasidTableGpa?: string;
      };
    }
  | { type: 'DeviceDetached'; data: { fdId: string; ioasid: number; rid: Rid; mdevId?: string; released: Released } }
  | { type: 'PasidTableSet'; data: { fdId: string; ioasid: number; gpa: string; contexts: Rid[] } }
  | {
      type: 'HwidSet';
      data: {
        fdId: string;
        ioasid: number;
        /** The user (guest) PASID. */
        pasid: number;
        /** Global mode: the host-allocated global PASID. */
        globalPasid?: number;
        /** Local mode with siov attachments: the host-allocated real PASID. */
        realPasid?: number;
      };
    }
  /** A real siov PASID was exposed to userspace in local mode: the fd is no longer migratable. */
  | { type: 'HwidExposed'; data: { fdId: string; ioasid: number; hostPasid: number; reason: string } }
  | { type: 'PgtableBound'; data: { fdId: string; ioasid: number; gpa: string; programmed: ProgrammedEntry[] } }
  | { type: 'PgtableUnbound'; data: { fdId: string; ioasid: number; cleared: EntryRef[] } }
  /**
   * A bound ioasid's page table replaced atomically (iommufd's replace): every entry of the ioasid,
   * listed, points its first stage at `gpa` in this one event; the device is never without an entry.
   */
  | { type: 'PgtableReplaced'; data: { fdId: string; ioasid: number; gpa: string; previousGpa: string; repointed: EntryRef[] } }
  | { type: 'KvmPasidMapped'; data: { fdId: string; vmId: string; guestPasid: number; hostPasid: number } }
  | { type: 'KvmPasidUnmapped'; data: { fdId: string; vmId: string; guestPasid: number } }
  | { type: 'MigrationStarted'; data: { fdId: string; migrationId: string; targetHostId: string } }
  | { type: 'MigrationAborted'; data: { fdId: string; migrationId: string; reason: string } }
  | { type: 'FdMigratedOut'; data: { fdId: string; migrationId: string; targetFdId: string; released: Released } }
  /**
   * Target side: migration `migrationId` will never be imported on this host. Appended by whoever
   * settles a stalled migration, before it unfreezes the source; the target's decider then
   * refuses that migration's ImportFd, and no bar is decided while the fd that import created
   * is open. Appends on one stream are serialized by version, so of a racing import and bar
   * exactly one wins: the fence that keeps the VM live on exactly one host. The hardware ignores it.
   */
  | { type: 'MigrationImportBarred'; data: { migrationId: string; sourceHostId: string; sourceFdId: string } }
  | {
      type: 'FdImported';
      data: FdIdentity &
        FdMode & {
          migrationId: string;
          sourceHostId: string;
          sourceFdId: string;
          /** Every ioasid with its PASIDs: the user PASIDs of the image, the host PASIDs decided now. Attachments of earlier releases' events have no `vdevId`. */
          ioasids: Array<Omit<IoasidRecord, 'attachments'> & { attachments: StoredAttachment[] }>;
          programmed: ProgrammedEntry[];
          /** vf RIDs whose context points at a guest PASID table. */
          guestContexts: Array<{ rid: Rid; gpa: string }>;
          kvmMappings: FdView['kvmMappings'];
          /** Every host PASID taken from the allocator by this import. */
          allocatedPasids: number[];
        };
    };

export type HostEventType = HostEvent['type'];
export type EventOf<T extends HostEventType> = Extract<HostEvent, { type: T }>;
export type EventData<T extends HostEventType> = EventOf<T>['data'];

/** Who caused an event: the operator or a tenant (by id, never by token). */
export type Actor = 'operator' | `tenant:${string}`;

/**
 * An event as stored, audited and published (API.md "Events"): the same JSON in
 * PostgreSQL, the audit API and Kafka. `hash` chains a host's events so that any
 * edit, loss or reordering shows.
 */
export interface EventEnvelope<E extends HostEvent = HostEvent> {
  eventId: string;
  hostId: string;
  version: number;
  type: E['type'];
  schemaVersion: number;
  occurredAt: string;
  tenantId?: string;
  actor: Actor;
  commandId: string;
  correlationId: string;
  data: E['data'];
  prevHash: string;
  hash: string;
}

/** GET /v1/events: a page of the log, and where the next one begins (absent on the last). */
export interface EventPage {
  events: EventEnvelope[];
  nextPageToken?: string;
}
