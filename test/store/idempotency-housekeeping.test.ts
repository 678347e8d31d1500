import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Client } from 'pg';
import { loadConfig } from '../../src/config';
import { IdempotencyHousekeeping } from '../../src/store/idempotency-housekeeping';
import { SchemaStatus } from '../../src/store/schema-status';
import { openScratchDatabase, type ScratchDatabase } from '../support/postgres';

describe('idempotency housekeeping', () => {
  let db: ScratchDatabase;
  let housekeeping: IdempotencyHousekeeping;

  /** `n` records of `scope`, created `hoursAgo` hours ago. */
  async function insert(scope: string, n: number, hoursAgo: number): Promise<void> {
    await db.dataSource.query(
      `INSERT INTO idempotency (scope, key, fingerprint, status, body, created_at)
       SELECT $1, 'k' || i, 'f', 201, '{}'::jsonb, now() - make_interval(hours => $3)
         FROM generate_series(1, $2) AS i`,
      [scope, n, hoursAgo],
    );
  }
  async function count(scope: string): Promise<number> {
    const [{ n }] = await db.dataSource.query('SELECT count(*)::int AS n FROM idempotency WHERE scope = $1', [scope]);
    return n;
  }

  before(async () => {
    db = await openScratchDatabase();
    housekeeping = new IdempotencyHousekeeping(db.dataSource, new SchemaStatus(db.dataSource), loadConfig({ ROLE: 'api' }));
  });
  after(async () => {
    await housekeeping?.onModuleDestroy();
    await db?.close();
  });

  it('deletes records past 24 hours in bounded batches and keeps the live ones', async () => {
    await insert('old', 25, 25);
    await insert('live', 5, 23);
    assert.deepEqual([await housekeeping.deleteBatch(10), await housekeeping.deleteBatch(10), await housekeeping.deleteBatch(10)], [10, 10, 5]);
    assert.equal(await count('old'), 0);
    assert.equal(await count('live'), 5);

    await insert('old-again', 23, 30);
    assert.equal(await housekeeping.sweep(10), 23, 'a sweep runs batches until none is full');
    assert.equal(await count('old-again'), 0);
    assert.equal(await count('live'), 5);
  });

  it('passes over a record another transaction holds (a request taking the key over) without waiting for it', async () => {
    await insert('held', 3, 48);
    const other = new Client({ connectionString: db.url });
    await other.connect();
    try {
      await other.query('BEGIN');
      await other.query(`SELECT 1 FROM idempotency WHERE scope = 'held' AND key = 'k1' FOR UPDATE`);
      assert.equal(await housekeeping.sweep(), 2);
      await other.query(`UPDATE idempotency SET created_at = now() WHERE scope = 'held' AND key = 'k1'`);
      await other.query('COMMIT');
    } finally {
      await other.end();
    }
    assert.equal(await housekeeping.sweep(), 0, 'the record taken over is live again');
    assert.equal(await count('held'), 1);
  });
});
