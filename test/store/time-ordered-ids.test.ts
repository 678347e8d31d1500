import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { timeOrderedUuid } from '../../src/model/time-ordered-uuid';
import { openScratchDatabase, type ScratchDatabase } from '../support/postgres';

const V7 = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

describe('time-ordered ids (UUID version 7)', () => {
  let db: ScratchDatabase;
  before(async () => (db = await openScratchDatabase()));
  after(() => db.close());

  it('is a version 7, variant 10 UUID whose first 48 bits are the milliseconds given', () => {
    const at = Date.UTC(2026, 11, 7, 15, 30, 0, 123);
    const id = timeOrderedUuid(at);
    assert.match(id, V7);
    assert.equal(parseInt(id.replace(/-/g, '').slice(0, 12), 16), at);
  });

  it('ids of a later millisecond sort after earlier ones, in PostgreSQL uuid order too; none repeats', async () => {
    const start = Date.UTC(2026, 0, 1);
    const perMs = Array.from({ length: 200 }, (_, ms) => Array.from({ length: 10 }, () => timeOrderedUuid(start + ms)));
    const ids = perMs.flat();
    assert.equal(new Set(ids).size, ids.length);
    for (let ms = 1; ms < perMs.length; ms++) {
      const earlier = [...perMs[ms - 1]!].sort().pop()!;
      for (const id of perMs[ms]!) assert.ok(id > earlier, `${id} sorts after ${earlier}`);
    }
    const rows: Array<{ id: string }> = await db.dataSource.query('SELECT id::text FROM unnest($1::uuid[]) AS t(id) ORDER BY id', [[...ids].reverse()]);
    assert.deepEqual(rows.map((r) => r.id), [...ids].sort());
  });
});
