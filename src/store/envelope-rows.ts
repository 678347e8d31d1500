import type { Actor, EventEnvelope } from '../model/envelope';

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

/**
 * The select list of an envelope as the text its hash covers: `line`, canonicalEnvelopeText
 * composed by PostgreSQL from the columns (stored `data` is its canonical JSON, and to_json
 * escapes a string as JSON.stringify does), and the recorded `hash`. One JSON.parse decodes
 * the envelope, and one SHA-256 over the same text proves the row (textProvesHash), where
 * decoding fourteen columns and re-serializing them canonically cost a replay about twice the
 * CPU. `occurredAt` is written as toISOString wrote it when the instant has one (whole
 * milliseconds, years 1 to 9999); any other instant, which no writer stores, keeps its
 * timestamptz text and so can never prove a hash. A row whose text is not canonical (rows
 * written before `data` was stored canonically, or edited by hand) still decodes to its
 * envelope, whose hash is then recomputed.
 */
export const ENVELOPE_LINE = `concat('{"actor":', to_json(actor), ',"commandId":', to_json(command_id), ',"correlationId":', to_json(correlation_id),
  ',"data":', data, ',"eventId":"', event_id, '","hostId":', to_json(host_id), ',"occurredAt":"', ${occurredAtText()},
  '","prevHash":', to_json(prev_hash), ',"schemaVersion":', schema_version, ',', CASE WHEN tenant_id IS NOT NULL THEN '"tenantId":' || to_json(tenant_id) || ',' END,
  '"type":', to_json(type), ',"version":', version, '}') AS line, hash`;

/** `occurredAt` as toISOString writes it, for every instant a writer stores (whole milliseconds, years 1 to 9999). */
function occurredAtText(at = 'occurred_at'): string {
  return `CASE WHEN ${at} = date_trunc('milliseconds', ${at}) AND ${at} >= '0001-01-01T00:00:00Z' AND ${at} < '10000-01-01T00:00:00Z'
       THEN to_char(${at} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') ELSE ${at}::text END`;
}

/**
 * The envelope's JSON text exactly as JSON.stringify writes `envelopeFromRow` of the row (the
 * audit log's and the watch's `data:`), composed by PostgreSQL, so that the watch hands it on
 * without decoding fourteen columns and encoding them again. Stored `data` is JSON.stringify's
 * text of its object (canonical JSON, whose members are never array-index-like keys, which
 * JSON.parse would reorder). Equal for every row a writer stores (test/store/envelope-line.test.ts).
 */
export function envelopeJson(alias?: string): string {
  const c = (column: string) => (alias ? `${alias}.${column}` : column);
  return `concat('{"eventId":"', ${c('event_id')}, '","hostId":', to_json(${c('host_id')}), ',"version":', ${c('version')}, ',"type":', to_json(${c('type')}),
  ',"schemaVersion":', ${c('schema_version')}, ',"occurredAt":"', ${occurredAtText(c('occurred_at'))}, '","actor":', to_json(${c('actor')}),
  ',"commandId":', to_json(${c('command_id')}), ',"correlationId":', to_json(${c('correlation_id')}), ',"data":', ${c('data')},
  ',"prevHash":', to_json(${c('prev_hash')}), ',"hash":', to_json(${c('hash')}),
  CASE WHEN ${c('tenant_id')} IS NOT NULL THEN ',"tenantId":' || to_json(${c('tenant_id')}) END, '}')`;
}

/** A row of `ENVELOPE_LINE`. */
export interface EnvelopeLine {
  line: string;
  hash: string;
}

/** The envelope of an `ENVELOPE_LINE` row: the members of the line, then `hash`. */
export function envelopeFromLine({ line, hash }: EnvelopeLine): EventEnvelope {
  const envelope = JSON.parse(line) as EventEnvelope;
  envelope.hash = hash;
  return envelope;
}

/** The fd an event concerns, kept in its own column for the audit filter. */
export function fdIdOf(envelope: EventEnvelope): string | null {
  const fdId = (envelope.data as { fdId?: unknown }).fdId;
  return typeof fdId === 'string' ? fdId : null;
}
