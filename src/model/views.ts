import type { DeviceKind, HwidMode, Rid } from './values';

/** The read shapes of docs/API.md (host, fd, ioasid, hwid): what every layer calls these facts. */
export interface HostView {
  hostId: string;
  pasidBits: number;
  enqcmd: boolean;
  nestedPasidTable: boolean;
  devices: Array<{ rid: Rid; kind: DeviceKind; pasidBits: number }>;
  version: number;
}

export interface IoasidView {
  ioasid: number;
  pasid?: number;
  globalPasid?: number;
  pgtableGpa?: string;
  pasidTableGpa?: string;
  attachments: Array<{ rid: Rid; enqcmd: boolean; mdevId?: string }>;
}

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

export interface HwidView {
  ioasid: number;
  pasid: number;
  hostPasid: number;
}

