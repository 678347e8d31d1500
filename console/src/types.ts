// The shapes of the REST answers the console reads (docs/API.md).

export interface HostView {
  hostId: string;
  pasidBits: number;
  enqcmd: boolean;
  nestedPasidTable: boolean;
  devices: Array<{ rid: string; kind: 'vf' | 'siov'; pasidBits: number }>;
  version: number;
}

export type Origin = 'local' | 'global' | 'real';

export interface HardwareEntry {
  fdId: string;
  ioasid: number;
  origin: Origin;
  pgtt: string;
  firstStageGpa?: string;
  domainId: number;
}

export interface RidView {
  context: { table: 'host' } | { table: 'guest'; gpa: string };
  pasids: Record<string, HardwareEntry>;
}

/** A PASID range [start, end] (inclusive), the shape reserved PASIDs may take. */
export type ReservedRange = number | [number, number] | { start: number; end: number };

export interface HardwareView {
  hostId: string;
  version: number;
  hash: string;
  rids: Record<string, RidView>;
  vms: Record<string, Record<string, number>>;
  /** `reserved` appears once the hardware view reports reserved PASIDs. */
  allocator: { used: number; free: number; reserved?: number | ReservedRange[] };
}

export interface VerifyResult {
  ok: boolean;
  version: number;
  hash: string;
  firstBadVersion?: number;
  reason?: string;
}

export interface EventEnvelope {
  eventId: string;
  hostId: string;
  version: number;
  type: string;
  schemaVersion: number;
  occurredAt: string;
  tenantId?: string;
  actor: string;
  commandId: string;
  correlationId: string;
  data: Record<string, unknown> & { fdId?: string };
  prevHash: string;
  hash: string;
}

export interface EventPage {
  events: EventEnvelope[];
  nextPageToken?: string;
}

export interface IoasidView {
  ioasid: number;
  pasid?: number;
  globalPasid?: number;
  pgtableGpa?: string;
  pasidTableGpa?: string;
  attachments: Array<{ rid: string; enqcmd: boolean; mdevId?: string }>;
}

export interface FdView {
  fdId: string;
  tenantId: string;
  hostId: string;
  vmId: string;
  hwidMode: 'local' | 'global' | null;
  globalMin: number | null;
  migratable: boolean;
  migratableReason?: string;
  migratingTo?: string;
  ioasids: IoasidView[];
  kvmMappings: Array<{ guestPasid: number; hostPasid: number }>;
  version: number;
}

export interface MigrationRecord {
  migrationId: string;
  fdId: string;
  sourceHostId: string;
  targetHostId: string;
  state: string;
  targetFdId?: string;
  reason?: string;
  startedAt: string;
  endedAt?: string;
}
