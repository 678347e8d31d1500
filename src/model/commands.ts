import type { DeviceSpec, HwidMode, PasidRange, Rid } from './values';
import type { FdImage } from './views';

/**
 * Commands of one host's decider. Every id the decider cannot choose itself purely
 * (fdId, migrationId: globally unique) arrives in the command; everything it can
 * (ioasid ids, PASIDs, mdev ids, domain ids) it decides and writes into the events.
 *
 * `actorTenantId` is the calling tenant; absent for the operator. An fd of another
 * tenant is NOT_FOUND, exactly like a missing one.
 */
interface FdScoped {
  fdId: string;
  actorTenantId?: string;
}

export type HostCommand =
  | { type: 'RegisterHost'; hostId: string; pasidBits: number; enqcmd: boolean; nestedPasidTable: boolean; devices: DeviceSpec[]; reservedPasids?: PasidRange[] }
  // Host lifecycle (operator): devices come and go, the host is cordoned for maintenance, or retired for good.
  | ({ type: 'AddDevice'; hostId: string } & DeviceSpec)
  | { type: 'RemoveDevice'; hostId: string; rid: Rid }
  | { type: 'CordonHost'; hostId: string }
  | { type: 'UncordonHost'; hostId: string }
  | { type: 'DecommissionHost'; hostId: string }
  | { type: 'CreateFd'; fdId: string; tenantId: string; vmId: string; actorTenantId?: string }
  | ({ type: 'CloseFd' } & FdScoped)
  | ({ type: 'SetHwidMode'; mode: HwidMode } & FdScoped)
  | ({ type: 'SetGlobalMin'; globalMin: number } & FdScoped)
  | ({ type: 'AllocIoasid' } & FdScoped)
  | ({ type: 'FreeIoasid'; ioasid: number } & FdScoped)
  | ({ type: 'AttachDevice'; ioasid: number; rid: Rid; enqcmd: boolean; vdevId?: string } & FdScoped)
  | ({ type: 'DetachDevice'; ioasid: number; rid: Rid; mdevId?: string } & FdScoped)
  | ({ type: 'SetPasidTable'; ioasid: number; gpa: string } & FdScoped)
  | ({ type: 'SetHwid'; ioasid: number; pasid: number } & FdScoped)
  | ({ type: 'GetHwid'; ioasid: number } & FdScoped)
  | ({ type: 'BindPgtable'; ioasid: number; gpa: string } & FdScoped)
  | ({ type: 'UnbindPgtable'; ioasid: number } & FdScoped)
  | ({ type: 'SetKvmPasidMapping'; guestPasid: number; hostPasid: number } & FdScoped)
  | ({ type: 'UnsetKvmPasidMapping'; guestPasid: number } & FdScoped)
  // Migration, source side: freeze, then release (completed) or unfreeze (aborted).
  | ({ type: 'StartMigration'; migrationId: string; targetHostId: string } & FdScoped)
  | ({ type: 'CompleteMigration'; migrationId: string; targetFdId: string } & FdScoped)
  | ({ type: 'AbortMigration'; migrationId: string; reason: string } & FdScoped)
  // Migration, target side, before settling a stalled migration: refuse its import from now on,
  // or be refused (ALREADY_EXISTS) because the import is already there. `tenantId` only stamps the event.
  | { type: 'BarMigrationImport'; migrationId: string; sourceHostId: string; sourceFdId: string; tenantId?: string }
  // Migration, target side: one decision that re-creates the whole fd or refuses.
  | {
      type: 'ImportFd';
      fdId: string;
      tenantId: string;
      actorTenantId?: string;
      migrationId: string;
      sourceHostId: string;
      sourceFdId: string;
      image: FdImage;
      /** source RID -> target RID */
      deviceMap: Record<Rid, Rid>;
    };

export type HostCommandType = HostCommand['type'];
export type CommandOf<T extends HostCommandType> = Extract<HostCommand, { type: T }>;

/**
 * Where a command runs and whom it concerns: the one classification of commands by scope
 * (the write path resolves their host from it, conditional writes find the fd they guard).
 */
export type CommandScope =
  /** The host's own commands, which name it. */
  | { kind: 'host'; hostId: string }
  /** A new fd of `tenantId` on the host the caller names, decided on that tenant's quotas. */
  | { kind: 'new fd'; tenantId: string }
  /** A migration's import barred on the host the caller names; `tenantId` only stamps the event. */
  | { kind: 'import bar'; tenantId: string | undefined }
  /** An existing fd, whose host the fd directory knows; `actorTenantId` is the calling tenant. */
  | { kind: 'fd'; fdId: string; actorTenantId: string | undefined };

export function commandScope(command: HostCommand): CommandScope {
  switch (command.type) {
    case 'RegisterHost':
    case 'AddDevice':
    case 'RemoveDevice':
    case 'CordonHost':
    case 'UncordonHost':
    case 'DecommissionHost':
      return { kind: 'host', hostId: command.hostId };
    case 'CreateFd':
    case 'ImportFd':
      return { kind: 'new fd', tenantId: command.tenantId };
    case 'BarMigrationImport':
      return { kind: 'import bar', tenantId: command.tenantId };
    case 'CloseFd':
    case 'SetHwidMode':
    case 'SetGlobalMin':
    case 'AllocIoasid':
    case 'FreeIoasid':
    case 'AttachDevice':
    case 'DetachDevice':
    case 'SetPasidTable':
    case 'SetHwid':
    case 'GetHwid':
    case 'BindPgtable':
    case 'UnbindPgtable':
    case 'SetKvmPasidMapping':
    case 'UnsetKvmPasidMapping':
    case 'StartMigration':
    case 'CompleteMigration':
    case 'AbortMigration':
      return { kind: 'fd', fdId: command.fdId, actorTenantId: command.actorTenantId };
    default: {
      // A command type added to HostCommand without a case here does not compile.
      const _: never = command;
      return _;
    }
  }
}
