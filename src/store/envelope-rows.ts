import { types } from 'pg';
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

/**
 * The select expression of an envelope as the text of ONE json array (see `envelopeFromJson`),
 * for the bulk reads (replays, exports, stream loads). The driver hands the text over as it is
 * and one JSON.parse decodes it: the column list (fourteen fields, jsonb parsed, a timestamp
 * parsed into a Date) cost the replay more than twice as much CPU per row. The text columns go
 * through one array_to_json (json_build_array or a to_json per column cost the server 10-30%
 * more per row); the numbers, the uuid and the timestamp's text (digits, separators, a zone,
 * "BC" or "infinity") need no escaping.
 */
export const ENVELOPE_JSON = `concat('[', version, ',', schema_version, ',"', event_id, '","', occurred_at, '",', data, ',',
  array_to_json(ARRAY[host_id, type, tenant_id, actor, command_id, correlation_id, prev_hash, hash]), ']')`;

type EnvelopeArray = [
  version: number,
  schemaVersion: number,
  eventId: string,
  occurredAt: string,
  data: unknown,
  texts: [hostId: string, type: string, tenantId: string | null, actor: string, commandId: string, correlationId: string, prevHash: string, hash: string],
];

/**
 * The envelope of an `ENVELOPE_JSON` text: the same object as `envelopeFromRow` builds from the
 * columns, member for member and in the same order.
 */
export function envelopeFromJson(text: string): EventEnvelope {
  const [version, schemaVersion, eventId, occurredAt, data, [hostId, type, tenantId, actor, commandId, correlationId, prevHash, hash]] =
    JSON.parse(text) as EnvelopeArray;
  const envelope: EventEnvelope = {
    eventId,
    hostId,
    version,
    type: type as EventEnvelope['type'],
    schemaVersion,
    occurredAt: isoTimeOf(occurredAt),
    actor: actor as Actor,
    commandId,
    correlationId,
    data: data as EventEnvelope['data'],
    prevHash,
    hash,
  };
  if (tenantId !== null) envelope.tenantId = tenantId;
  return envelope;
}

const parseTimestamptz = types.getTypeParser(types.builtins.TIMESTAMPTZ) as (text: string) => Date;
const [SPACE, DASH, DOT] = [0x20, 0x2d, 0x2e];

/**
 * A timestamptz as PostgreSQL writes it ("2026-11-24 08:23:23.89+00") as the envelope's ISO
 * string, exactly as the column decoding makes it: the driver's parser (which truncates
 * microseconds), then toISOString. The usual text (a UTC session, at most milliseconds, a
 * four-digit year) is only rearranged, without building a Date.
 */
export function isoTimeOf(text: string): string {
  const fraction = text.length - '+00'.length - 'YYYY-MM-DD HH:MM:SS'.length;
  const usual =
    text.endsWith('+00') &&
    text.charCodeAt(4) === DASH &&
    text.charCodeAt(10) === SPACE &&
    (fraction === 0 || (fraction >= 2 && fraction <= 4 && text.charCodeAt(19) === DOT));
  if (!usual) return parseTimestamptz(text).toISOString();
  return `${text.slice(0, 10)}T${text.slice(11, 19)}${fraction === 0 ? '.000' : text.slice(19, 19 + fraction).padEnd(4, '0')}Z`;
}

/** The fd an event concerns, kept in its own column for the audit filter. */
export function fdIdOf(envelope: EventEnvelope): string | null {
  const fdId = (envelope.data as { fdId?: unknown }).fdId;
  return typeof fdId === 'string' ? fdId : null;
}
