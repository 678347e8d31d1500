import { Injectable } from '@nestjs/common';
import { DataSource, type EntityManager } from 'typeorm';
import type { IdempotencyRecord } from './append-request';
import { storeCall } from './store-errors';

/** A stored answer still within its 24 hours. */
export interface StoredAnswer {
  fingerprint: string;
  body: unknown;
}

/** Reads idempotency records; they are written with the events they answer for (append-transaction.ts). */
@Injectable()
export class IdempotencyStore {
  constructor(private readonly dataSource: DataSource) {}

  async find(scope: string, key: string): Promise<StoredAnswer | undefined> {
    const rows: Array<{ fingerprint: string; body: unknown }> = await storeCall(() =>
      this.dataSource.query(
        `SELECT fingerprint, body FROM idempotency
          WHERE scope = $1 AND key = $2 AND created_at >= now() - interval '24 hours'`,
        [scope, key],
      ),
    );
    if (!rows.length) return undefined;
    return { fingerprint: rows[0].fingerprint, body: rows[0].body ?? undefined };
  }
}

/**
 * Stores one record inside the caller's transaction (writes that are not host appends:
 * tenants). False when a live record holds the key; an expired one is taken over.
 */
export async function claimKey(m: EntityManager, record: IdempotencyRecord): Promise<boolean> {
  const rows: unknown[] = await m.query(
    `INSERT INTO idempotency (scope, key, fingerprint, body) VALUES ($1, $2, $3, $4)
     ON CONFLICT (scope, key) DO UPDATE
       SET fingerprint = EXCLUDED.fingerprint, body = EXCLUDED.body, created_at = now()
       WHERE idempotency.created_at < now() - interval '24 hours'
     RETURNING key`,
    [record.scope, record.key, record.fingerprint, record.body === undefined ? null : JSON.stringify(record.body)],
  );
  return rows.length === 1;
}
