// The shapes of the REST answers the console reads (docs/API.md). The host and fd views are the
// server's own declarations (src/model imports nothing, so the browser build can read its types).
export type { FdView, HostView, IoasidView, VerifyResult, WhoAmIView } from '../../src/model/views';

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
