import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Client, types } from 'pg';
import { openDatabase } from '../../src/store/database';
import { ENVELOPE_JSON, envelopeColumns, envelopeFromJson, envelopeFromRow, isoTimeOf, type EventRow } from '../../src/store/envelope-rows';
import { EventReads } from '../../src/store/event-reads';
import { createTestDatabase, type TestDatabase } from '../support/postgres';

const HOST = 'host-odd';
/** Session time zones: UTC, a half-hour offset (and +05:53:28 before 1941), a negative half-hour offset. */
const ZONES = ['UTC', 'Asia/Kolkata', 'America/St_Johns'];
/** Instants as a writer could never store them but a hand-edited row could: microseconds, odd years. */
const TIMES = [
  '2026-11-24 08:23:23.896+00',
  '2026-11-24 08:23:23.89+00',
  '2026-11-24 08:23:23.8+00',
  '2026-11-24 08:23:23+00',
  '2026-11-24 08:23:23.123456+00',
  '2026-11-24 08:23:23.999999+05:30',
  '1969-12-31 23:59:59.9995+00',
  '1900-01-01 00:00:00.5+00',
  '0050-06-01 12:00:00.25+00',
  '0044-03-15 12:00:00+00 BC',
  '12026-01-01 00:00:00.001+00',
];
const STRINGS = ['plain', 'quote " backslash \\ slash /', 'new\nline\ttab\u0001\u001f', 'accents é ü, 漢字, emoji 🦀', ''];

describe('bulk envelope decoding (one json text per row)', () => {
  let testDb: TestDatabase;

  before(async () => {
    testDb = await createTestDatabase();
    const db = await openDatabase({ databaseUrl: testDb.url, dataDir: '.' });
    try {
      // Rows written by hand, as someone with database access could: no hash chain needed here.
      for (const [i, at] of TIMES.entries()) {
        const text = STRINGS[i % STRINGS.length]!;
        await db.dataSource.query(
          `INSERT INTO events (host_id, version, event_id, type, schema_version, data, tenant_id, fd_id, actor, command_id, correlation_id, occurred_at, prev_hash, hash)
           VALUES ($1, $2, gen_random_uuid(), $3, 1, $4, $5, NULL, $6, $7, $8, $9, $10, $11)`,
          [
            HOST,
            i + 1,
            i === 3 ? text : 'IoasidAllocated',
            JSON.stringify({ fdId: text, n: i, big: 1e21, frac: 0.1, nested: { [text]: [text, null, true, { z: 1, a: -2.5 }] } }),
            i % 2 === 0 ? null : text,
            i % 3 === 0 ? 'operator' : `tenant:${text}`,
            `cmd-${text}`,
            text,
            at,
            'p'.repeat(64),
            i === 5 ? text : 'h'.repeat(64),
          ],
        );
      }
    } finally {
      await db.close();
    }
  });
  after(async () => {
    await testDb?.drop();
  });

  for (const zone of ZONES) {
    it(`gives the envelopes of the column decoding, byte for byte, in a session at ${zone}`, async () => {
      const client = new Client({ connectionString: testDb.url });
      await client.connect();
      try {
        await client.query(`SET TIME ZONE '${zone}'`);
        const columns = await client.query<EventRow>(`SELECT ${envelopeColumns()} FROM events WHERE host_id = $1 ORDER BY version`, [HOST]);
        const texts = await client.query<{ e: string }>(`SELECT ${ENVELOPE_JSON} AS e FROM events WHERE host_id = $1 ORDER BY version`, [HOST]);
        assert.equal(texts.rows.length, TIMES.length);
        for (const [i, row] of columns.rows.entries()) {
          assert.equal(JSON.stringify(envelopeFromJson(texts.rows[i]!.e)), JSON.stringify(envelopeFromRow(row)), `version ${i + 1}`);
        }
      } finally {
        await client.end();
      }
    });
  }

  it('turns any timestamp text into the ISO string of the driver parser, in any zone', async () => {
    const parse = types.getTypeParser(types.builtins.TIMESTAMPTZ) as (text: string) => Date;
    const client = new Client({ connectionString: testDb.url });
    await client.connect();
    try {
      for (const zone of ZONES) {
        await client.query(`SET TIME ZONE '${zone}'`);
        // Random instants from year 1 to 9999, half of them whole milliseconds (the writer's), half with microseconds.
        const { rows } = await client.query<{ t: string }>(
          `SELECT (timestamptz '0001-01-01 00:00:00+00' + ((random() * 3.15e17)::bigint / CASE WHEN g % 2 = 0 THEN 1000 ELSE 1 END
                   * CASE WHEN g % 2 = 0 THEN 1000 ELSE 1 END) * interval '1 microsecond')::text AS t
             FROM generate_series(1, 2000) AS g`,
        );
        for (const { t } of rows) assert.equal(isoTimeOf(t), parse(t).toISOString(), `${zone}: ${t}`);
      }
    } finally {
      await client.end();
    }
  });

  it('reads the same envelopes through range as through the audit list (column decoding)', async () => {
    const db = await openDatabase({ databaseUrl: testDb.url, dataDir: '.' });
    try {
      const reads = new EventReads(db.dataSource);
      const listed = await reads.list({ hostId: HOST, pageSize: 100 });
      assert.equal(listed.events.length, TIMES.length);
      assert.deepEqual(await reads.range(HOST, 0), listed.events);
      assert.deepEqual(await reads.range(HOST, 2, 5), listed.events.slice(2, 5));
    } finally {
      await db.close();
    }
  });
});
