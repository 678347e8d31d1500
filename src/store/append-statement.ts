import type { PoolClient } from 'pg';
import { GENESIS_HASH, type EventEnvelope } from '../model/envelope';
import { buildEnvelopes, canonicalDataOf, type AppendRequest } from './append-request';
import { fdIdOf } from './envelope-rows';
import { fdDirectoryChanges } from './fd-directory';

/** What one batch statement did: the streams whose head moved and the idempotency keys it stored. */
export interface BatchOutcome {
  envelopes: Map<AppendRequest, EventEnvelope[]>;
  /** Requests whose stream was no longer at the expected version: nothing of theirs was written. */
  versionLosers: AppendRequest[];
  /** Requests whose stream moved but whose idempotency key a concurrent request holds: their writes must be rolled back. */
  keyLosers: AppendRequest[];
}

/**
 * A whole batch in ONE statement (one round trip): move each stream's head from its expected
 * version (the row lock orders concurrent writers; READ COMMITTED re-checks the version after
 * waiting), then write events, outbox rows, fd directory changes and idempotency records only
 * for the streams that moved. A stale request writes nothing, so without idempotency keys the
 * statement runs on its own (autocommit); with keys the caller wraps it in a transaction and
 * rolls back if a key was lost after its stream moved.
 *
 * Within one host, positions follow versions: a host's rows of a batch are inserted in version
 * order (ORDER BY their place in the batch), only once its head has moved, and a head moves
 * only after the batch that moved it before has committed (having taken its positions). The
 * audit's by-host pages rely on it (event-reads.ts); this is the only statement that writes
 * events.
 */
export async function appendBatch(client: PoolClient, requests: readonly AppendRequest[], heads: ReadonlyMap<string, string>): Promise<BatchOutcome> {
  const occurredAt = new Date().toISOString();
  const envelopes = new Map<AppendRequest, EventEnvelope[]>();
  for (const r of requests) envelopes.set(r, r.events.length ? buildEnvelopes(r, r.expectedVersion === 0 ? GENESIS_HASH : heads.get(r.hostId)!, occurredAt) : []);
  const all = [...envelopes.values()].flat();
  const writing = requests.filter((r) => r.events.length > 0);
  const keyed = requests.filter((r) => r.idempotency);
  const fdChanges = writing.flatMap((r) => fdDirectoryChanges(r.hostId, r.events).map((c) => ({ ...c, stream: r.hostId })));
  const opened = fdChanges.filter((c) => c.kind === 'open');
  const closed = fdChanges.filter((c) => c.kind === 'close');

  const { rows } = await client.query<{ kind: 'moved' | 'claimed'; a: string; b: string | null }>({
    // Named: PostgreSQL plans this statement once per connection instead of on every batch.
    name: 'ioasid-append-batch',
    text: `WITH req AS (
       SELECT * FROM unnest($1::text[], $2::int[], $3::int[], $4::jsonb[]) AS r(host_id, expected, next, spec)
     ),
     moved AS (
       UPDATE hosts AS h SET version = r.next, spec = COALESCE(r.spec, h.spec) FROM req r
        WHERE r.expected > 0 AND h.host_id = r.host_id AND h.version = r.expected
       RETURNING h.host_id
     ),
     created AS (
       INSERT INTO hosts (host_id, version, spec)
       SELECT host_id, next, spec FROM req WHERE expected = 0
       ON CONFLICT (host_id) DO NOTHING
       RETURNING host_id
     ),
     won AS (SELECT host_id FROM moved UNION ALL SELECT host_id FROM created),
     inserted AS (
       INSERT INTO events (host_id, version, event_id, type, schema_version, data, tenant_id, fd_id, actor, command_id, correlation_id, occurred_at, prev_hash, hash)
       SELECT host_id, version, event_id, type, schema_version, data, tenant_id, fd_id, actor, command_id, correlation_id, occurred_at, prev_hash, hash
         FROM unnest($5::text[], $6::int[], $7::uuid[], $8::text[], $9::int[], $10::json[], $11::text[], $12::text[],
                     $13::text[], $14::text[], $15::text[], $16::timestamptz[], $17::text[], $18::text[]) WITH ORDINALITY
              AS e(host_id, version, event_id, type, schema_version, data, tenant_id, fd_id, actor, command_id, correlation_id, occurred_at, prev_hash, hash, ord)
        WHERE e.host_id IN (SELECT host_id FROM won)
        -- Positions are taken in this order: a host's events in version order, whatever the join's plan.
        ORDER BY e.ord
       RETURNING host_id, version
     ),
     outboxed AS (INSERT INTO outbox (host_id, version) SELECT host_id, version FROM inserted),
     fd_opened AS (
       INSERT INTO fd_directory (fd_id, host_id, tenant_id, vm_id, open)
       SELECT fd_id, host_id, tenant_id, vm_id, true FROM unnest($19::text[], $20::text[], $21::text[], $22::text[]) AS f(fd_id, host_id, tenant_id, vm_id)
        WHERE f.host_id IN (SELECT host_id FROM won)
       ON CONFLICT (fd_id) DO UPDATE SET open = true, updated_at = now()
     ),
     fd_closed AS (
       UPDATE fd_directory AS d SET open = false, updated_at = now()
         FROM unnest($23::text[], $24::text[]) AS f(fd_id, stream)
        WHERE d.fd_id = f.fd_id AND f.stream IN (SELECT host_id FROM won)
     ),
     -- A live record belongs to whoever committed it; one older than 24 h may be taken over.
     claimed AS (
       INSERT INTO idempotency (scope, key, fingerprint, body)
       SELECT scope, key, fingerprint, body
         FROM unnest($25::text[], $26::text[], $27::text[], $28::jsonb[], $29::text[], $30::bool[])
              AS k(scope, key, fingerprint, body, stream, writes)
        WHERE NOT k.writes OR k.stream IN (SELECT host_id FROM won)
       ON CONFLICT (scope, key) DO UPDATE
         SET fingerprint = EXCLUDED.fingerprint, body = EXCLUDED.body, created_at = now()
         WHERE idempotency.created_at < now() - interval '24 hours'
       RETURNING scope, key
     )
     SELECT 'moved' AS kind, host_id AS a, NULL AS b FROM won
     UNION ALL SELECT 'claimed', scope, key FROM claimed`,
    values: [
      writing.map((r) => r.hostId),
      writing.map((r) => r.expectedVersion),
      writing.map((r) => r.expectedVersion + r.events.length),
      writing.map(hostSpecJson),
      all.map((e) => e.hostId),
      all.map((e) => e.version),
      all.map((e) => e.eventId),
      all.map((e) => e.type),
      all.map((e) => e.schemaVersion),
      // Canonical: the row then holds the very text the hash covers (ENVELOPE_LINE).
      all.map(canonicalDataOf),
      all.map((e) => e.tenantId ?? null),
      all.map(fdIdOf),
      all.map((e) => e.actor),
      all.map((e) => e.commandId),
      all.map((e) => e.correlationId),
      all.map((e) => e.occurredAt),
      all.map((e) => e.prevHash),
      all.map((e) => e.hash),
      opened.map((c) => c.fdId),
      opened.map((c) => c.stream),
      opened.map((c) => (c.kind === 'open' ? c.tenantId : '')),
      opened.map((c) => (c.kind === 'open' ? c.vmId : '')),
      closed.map((c) => c.fdId),
      closed.map((c) => c.stream),
      keyed.map((r) => r.idempotency!.scope),
      keyed.map((r) => r.idempotency!.key),
      keyed.map((r) => r.idempotency!.fingerprint),
      keyed.map((r) => (r.idempotency!.body === undefined ? null : JSON.stringify(r.idempotency!.body))),
      keyed.map((r) => r.hostId),
      keyed.map((r) => r.events.length > 0),
    ],
  });
  const moved = new Set(rows.filter((row) => row.kind === 'moved').map((row) => row.a));
  const claimed = new Set(rows.filter((row) => row.kind === 'claimed').map((row) => keyOf(row.a, row.b!)));
  const versionLosers = writing.filter((r) => !moved.has(r.hostId));
  const keyLosers = keyed.filter((r) => !versionLosers.includes(r) && !claimed.has(keyOf(r.idempotency!.scope, r.idempotency!.key)));
  return { envelopes, versionLosers, keyLosers };
}

/** Head hashes the batch needs and the caller does not know: read outside any lock, they are checked by the head move itself. */
export async function readHeadHashes(client: PoolClient, wanted: ReadonlyArray<{ hostId: string; version: number }>): Promise<Map<string, string>> {
  const heads = new Map<string, string>();
  if (!wanted.length) return heads;
  const { rows } = await client.query<{ host_id: string; hash: string }>(
    `SELECT e.host_id, e.hash FROM events e
       JOIN unnest($1::text[], $2::int[]) AS v(host_id, version) ON e.host_id = v.host_id AND e.version = v.version`,
    [wanted.map((w) => w.hostId), wanted.map((w) => w.version)],
  );
  for (const row of rows) heads.set(row.host_id, row.hash);
  return heads;
}

/** The host's new description when the request's events changed it; null keeps the stored one. */
function hostSpecJson(request: AppendRequest): string | null {
  return request.host ? JSON.stringify(request.host) : null;
}

function keyOf(scope: string, key: string): string {
  return `${scope}\u0000${key}`;
}
