import type { HostEventType } from '../model/events';

// A record, not a list: the compiler refuses it until every event type is here, and no other.
const KNOWN: Record<HostEventType, true> = {
  HostRegistered: true,
  DeviceAdded: true,
  DeviceRemoved: true,
  HostCordoned: true,
  HostUncordoned: true,
  HostDecommissioned: true,
  FdCreated: true,
  FdClosed: true,
  HwidModeSet: true,
  GlobalMinSet: true,
  IoasidAllocated: true,
  IoasidFreed: true,
  DeviceAttached: true,
  DeviceDetached: true,
  PasidTableSet: true,
  HwidSet: true,
  HwidExposed: true,
  PgtableBound: true,
  PgtableUnbound: true,
  PgtableReplaced: true,
  KvmPasidMapped: true,
  KvmPasidUnmapped: true,
  MigrationStarted: true,
  MigrationAborted: true,
  FdMigratedOut: true,
  FdImported: true,
  MigrationImportBarred: true,
};

/** Every event type of the host stream (src/model/events.ts), for `audit --type`. */
export const EVENT_TYPES = Object.keys(KNOWN) as HostEventType[];
