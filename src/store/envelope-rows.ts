import type { Actor, EventEnvelope } from '../domain/envelope';

const COLUMNS = [
  'position', 'host_id', 'version', 'event_id', 'type', 'schema_version', 'data',
  'tenant_id', 'actor', 'command_id', 'correlation_id', 'occurred_at', 'prev_hash', 'hash',
];

/** The select list of an envelope row, optionally qualified by a table alias (for joins). */
export function envelopeColumns(alias?: string): string {
  return COLUMNS.map((c) => (alias ? `${alias}.${c}` : c)).join(', ');
}

export interface EventRow {
  position: string;
  host_id: string;
  version: number;
  event_id: string;
  type: string;
  schema_version: number;
  data: unknown;
  tenant_id: string | null;
  actor: string;
  command_id: string;
  correlation_id: string;
  occurred_at: Date;
  prev_hash: string;
  hash: string;
}

/**
 * Rebuilds the envelope exactly as it was hashed: an absent tenant stays absent and the
 * timestamp comes back as the same millisecond ISO string, so envelopeHash agrees.
 */
export function envelopeFromRow(row: EventRow): EventEnvelope {
  const envelope: EventEnvelope = {
    eventId: row.event_id,
    hostId: row.host_id,
    version: row.version,
    type: row.type as EventEnvelope['type'],
    schemaVersion: row.schema_version,
    occurredAt: row.occurred_at.toISOString(),
    actor: row.actor as Actor,
    commandId: row.command_id,
    correlationId: row.correlation_id,
    data: row.data as EventEnvelope['data'],
    prevHash: row.prev_hash,
    hash: row.hash,
  };
  if (row.tenant_id !== null) envelope.tenantId = row.tenant_id;
  return envelope;
}

/** The fd an event concerns, kept in its own column for the audit filter. */
export function fdIdOf(envelope: EventEnvelope): string | null {
  const fdId = (envelope.data as { fdId?: unknown }).fdId;
  return typeof fdId === 'string' ? fdId : null;
}
