import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import fc from 'fast-check';
import { Client } from 'pg';
import { canonicalEnvelopeText, type EventEnvelope } from '../../src/model/envelope';
import type { HostEvent } from '../../src/model/events';
import { hasValidHash, textProvesHash } from '../../src/replay/envelope-check';
import type { SourcedEvent } from '../../src/replay/event-source';
import { PostgresReplay } from '../../src/replay/postgres-replay';
import { replayHost } from '../../src/replay/replay';
import { openDatabase, type Database } from '../../src/store/database';
import { ENVELOPE_LINE, envelopeColumns, envelopeFromLine, envelopeFromRow, envelopeJson, type EnvelopeLine, type EventRow } from '../../src/store/envelope-rows';
import { EventReads } from '../../src/store/event-reads';
import { EventStore } from '../../src/store/event-store';
import { openScratchDatabase, type ScratchDatabase } from '../support/postgres';
import { createTestStorage, type TestStorage } from '../support/test-storage';
import { runScenario, ScenarioHost } from '../replay/scenario';

/** Session time zones: UTC, a half-hour offset (and +05:53:28 before 1941), a negative half-hour offset. */
const ZONES = ['UTC', 'Asia/Kolkata', 'America/St_Johns'];
/** Instants as a hand-edited row could hold them; `usual` when toISOString could have written them (what a writer stores). */
const TIMES: Array<{ at: string; usual: boolean }> = [
  { at: '2026-11-24 08:23:23.896+00', usual: true },
  { at: '2026-11-24 08:23:23.89+00', usual: true },
  { at: '2026-11-24 08:23:23+00', usual: true },
  { at: '1900-01-01 00:00:00.5+00', usual: true },
  { at: '0050-06-01 12:00:00.25+00', usual: true },
  { at: '2026-11-24 08:23:23.123456+00', usual: false },
  { at: '2026-11-24 08:23:23.999999+05:30', usual: false },
  { at: '1969-12-31 23:59:59.9995+00', usual: false },
  { at: '0044-03-15 12:00:00+00 BC', usual: false },
  { at: '12026-01-01 00:00:00.001+00', usual: false },
];
const STRINGS = ['plain', 'quote " backslash \\ slash /', 'new\nline\ttab\u0001\u001f\u007f', 'accents é ü, 漢字, emoji 🦀, \u2028', ''];

async function selectBoth(client: Pick<Client, 'query'>, hostId: string): Promise<Array<{ line: EnvelopeLine; row: EventRow }>> {
  const lines = await client.query<EnvelopeLine>(`SELECT ${ENVELOPE_LINE} FROM events WHERE host_id = $1 ORDER BY version`, [hostId]);
  const columns = await client.query<EventRow>(`SELECT ${envelopeColumns()} FROM events WHERE host_id = $1 ORDER BY version`, [hostId]);
  assert.equal(lines.rows.length, columns.rows.length);
  return lines.rows.map((line, i) => ({ line, row: columns.rows[i]! }));
}

/** The envelope JSON PostgreSQL composes (the watch's `data:`) of each event of a host, in version order. */
async function selectJson(client: Pick<Client, 'query'>, hostId: string): Promise<string[]> {
  const { rows } = await client.query<{ json: string }>(`SELECT ${envelopeJson('e')} AS json FROM events e WHERE host_id = $1 ORDER BY version`, [hostId]);
  return rows.map((r) => r.json);
}

/** A member name JSON.parse moves ahead of the others (an array index), so that no text can keep its place. */
const indexLike = (data: object): boolean => /"(0|[1-9]\d*)":/.test(JSON.stringify(data));

/** Every event of a host as the PostgreSQL replay source yields it. */
async function sourced(replay: PostgresReplay, hostId: string): Promise<SourcedEvent[]> {
  const all: SourcedEvent[] = [];
  for await (const batch of replay.source.read(hostId, 0)) all.push(...batch);
  return all;
}

describe('bulk envelope reads: each row as the text its hash covers', () => {
  let db: ScratchDatabase;
  let store: EventStore;
  let scenario: ScenarioHost;

  before(async () => {
    db = await openScratchDatabase();
    store = new EventStore(db.dataSource);
    scenario = new ScenarioHost('host-line', store);
    await runScenario(scenario);
    // Rows written by hand, as someone with database access could: no hash chain needed here.
    for (const [i, { at }] of TIMES.entries()) {
      const text = STRINGS[i % STRINGS.length]!;
      await db.dataSource.query(
        `INSERT INTO events (host_id, version, event_id, type, schema_version, data, tenant_id, fd_id, actor, command_id, correlation_id, occurred_at, prev_hash, hash)
         VALUES ('host-odd', $1, gen_random_uuid(), $2, 1, $3, $4, NULL, $5, $6, $7, $8, $9, $10)`,
        [
          i + 1,
          i === 3 ? text : 'IoasidAllocated',
          JSON.stringify({ fdId: text, n: i, big: 1e21, frac: 0.1, nested: { [text]: [text, null, true, { z: 1, a: -2.5 }] } }),
          i % 2 === 0 ? null : text,
          i % 3 === 0 ? 'operator' : `tenant:${text}`,
          `cmd-${text}`,
          text,
          at,
          i === 4 ? `p"${text}` : 'p'.repeat(64),
          'h'.repeat(64),
        ],
      );
    }
  });
  after(async () => {
    await db?.close();
  });

  for (const zone of ZONES) {
    it(`composes for every row the store wrote exactly the text its hash covers, in a session at ${zone}`, async () => {
      const client = new Client({ connectionString: db.url });
      await client.connect();
      try {
        await client.query(`SET TIME ZONE '${zone}'`);
        const rows = await selectBoth(client, scenario.hostId);
        assert.equal(rows.length, scenario.envelopes.length);
        for (const [i, { line, row }] of rows.entries()) {
          const written = scenario.envelopes[i]!;
          assert.equal(line.line, canonicalEnvelopeText(written), `version ${i + 1}`);
          assert.equal(textProvesHash(written.prevHash, line.line, line.hash), true, `version ${i + 1} proves its hash`);
          assert.deepEqual(envelopeFromLine(line), written);
          assert.deepEqual(envelopeFromRow(row), written);
        }
        const json = await selectJson(client, scenario.hostId);
        assert.deepEqual(json, rows.map(({ row }) => JSON.stringify(envelopeFromRow(row))), 'the envelope JSON composed by PostgreSQL is JSON.stringify of the decoded row');
      } finally {
        await client.end();
      }
    });
  }

  it('decodes hand-written rows to the column decoding; an instant no writer stores keeps its stored text', async () => {
    for (const zone of ZONES) {
      const client = new Client({ connectionString: db.url });
      await client.connect();
      try {
        await client.query(`SET TIME ZONE '${zone}'`);
        const rows = await selectBoth(client, 'host-odd');
        const json = await selectJson(client, 'host-odd');
        assert.equal(rows.length, TIMES.length);
        for (const [i, { line, row }] of rows.entries()) {
          const fromLine = envelopeFromLine(line);
          const fromColumns = envelopeFromRow(row);
          const why = `${zone}, ${TIMES[i]!.at}`;
          if (TIMES[i]!.usual) {
            assert.deepEqual(fromLine, fromColumns, why);
            assert.equal(json[i], JSON.stringify(fromColumns), why);
          } else {
            assert.deepEqual({ ...fromLine, occurredAt: '' }, { ...fromColumns, occurredAt: '' }, why);
            assert.notEqual(fromLine.occurredAt, fromColumns.occurredAt, `${why}: not the truncated instant`);
            assert.doesNotMatch(fromLine.occurredAt, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/, why);
          }
        }
      } finally {
        await client.end();
      }
    }
  });

  it('proves the rows of any strings and data the store takes (property)', async () => {
    // Valid Unicode without NUL: what PostgreSQL text holds (the API refuses the rest before the store).
    const text = fc.string({ unit: 'grapheme', maxLength: 10 }).filter((s) => !s.includes('\u0000'));
    const data = fc.dictionary(text, fc.jsonValue({ maxDepth: 3 }).filter((v) => !JSON.stringify(v).includes('\\u0000')), { maxKeys: 5, noNullPrototype: true });
    let host = 0;
    const client = new Client({ connectionString: db.url });
    await client.connect();
    await fc.assert(
      fc.asyncProperty(fc.array(data, { minLength: 1, maxLength: 3 }), text, text, fc.option(text, { nil: undefined }), async (datas, commandId, correlationId, tenantId) => {
        const hostId = `prop-${++host}-${commandId}`;
        const events = datas.map((d) => ({ type: 'IoasidAllocated', data: d }) as unknown as HostEvent);
        const written = await store.append({
          hostId,
          expectedVersion: 0,
          events,
          ...(tenantId !== undefined ? { tenantId } : {}),
          actor: tenantId !== undefined ? `tenant:${tenantId}` : 'operator',
          commandId,
          correlationId,
        });
        const rows = await selectBoth(client, hostId);
        const json = await selectJson(client, hostId);
        assert.equal(rows.length, written.length);
        for (const [i, { line, row }] of rows.entries()) {
          const decoded = envelopeFromRow(row);
          // The same text as JSON.stringify writes, unless JSON.parse moved an array-index member ahead (no event's data has one).
          if (indexLike(decoded.data)) assert.deepEqual(JSON.parse(json[i]!), decoded, json[i]);
          else assert.equal(json[i], JSON.stringify(decoded));
          assert.equal(textProvesHash(written[i]!.prevHash, line.line, line.hash), true, line.line);
          // As JSON carries it: a -0 in the data is written, hashed and read back as 0.
          const asJson = JSON.parse(JSON.stringify(written[i])) as EventEnvelope;
          assert.deepEqual(envelopeFromLine(line), asJson);
          assert.deepEqual(envelopeFromRow(row), asJson);
        }
      }),
      { numRuns: 60 },
    ).finally(() => client.end());
  });

  it('reads through range the same envelopes as the audit list (column decoding)', async () => {
    const reads = new EventReads(db.dataSource);
    for (const hostId of [scenario.hostId, 'host-odd']) {
      const listed = (await reads.list({ hostId, pageSize: 1000 })).events;
      const ranged = await reads.range(hostId, 0);
      assert.equal(ranged.length, listed.length);
      // Instants no writer stores are the exception (previous test): compare the others whole.
      ranged.forEach((e, i) => {
        if (hostId === scenario.hostId || TIMES[i]!.usual) assert.deepEqual(e, listed[i]);
      });
    }
    assert.deepEqual(await reads.range(scenario.hostId, 2, 5), scenario.envelopes.slice(2, 5));
  });

  it('hands the replay every row as proven, and catches an instant edited by a microsecond or moved to BC', async () => {
    const replay = new PostgresReplay(db.dataSource);
    const events = await sourced(replay, scenario.hostId);
    assert.equal(events.length, scenario.envelopes.length);
    assert.ok(events.every((e) => e.hashProven === true));

    for (const [hostId, edit] of [
      ['host-micro', `occurred_at + interval '1 microsecond'`],
      ['host-bc', `(to_char(occurred_at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS.MS') || '+00 BC')::timestamptz`],
    ] as const) {
      const host = new ScenarioHost(hostId, store);
      await runScenario(host);
      await db.dataSource.query(`UPDATE events SET occurred_at = ${edit} WHERE host_id = $1 AND version = 5`, [hostId]);
      const { problem, head } = await replayHost(replay.source, hostId);
      assert.deepEqual([problem?.version, problem?.kind, head.version], [5, 'chain', 4], hostId);
      const [edited] = await replay.source.read(hostId, 4, 5)[Symbol.asyncIterator]().next().then((r) => r.value as SourcedEvent[]);
      assert.equal(edited!.hashProven, false);
      assert.equal(hasValidHash(edited!.envelope as EventEnvelope), false);
    }
  });
});

describe('upgrade: events.data from jsonb to canonical json', () => {
  let db: ScratchDatabase;

  before(async () => {
    db = await openScratchDatabase();
  });
  after(async () => {
    await db?.close();
  });

  it('replays rows written before with recomputed hashes, proves those written after, and keeps the migrations read model', async () => {
    // Back to before the canonical-data migration: the later ones first.
    while ((await db.dataSource.query(`SELECT name FROM schema_migrations ORDER BY id DESC LIMIT 1`))[0].name !== 'CanonicalEventData1732450000000') {
      await db.dataSource.undoLastMigration();
    }
    await db.dataSource.undoLastMigration();
    const [{ data_type: before }] = await db.dataSource.query(`SELECT data_type FROM information_schema.columns WHERE table_name = 'events' AND column_name = 'data'`);
    assert.equal(before, 'jsonb');
    const store = new EventStore(db.dataSource);
    const old = new ScenarioHost('host-before', store);
    await runScenario(old);

    await db.dataSource.runMigrations();
    const [{ data_type: afterUpgrade }] = await db.dataSource.query(`SELECT data_type FROM information_schema.columns WHERE table_name = 'events' AND column_name = 'data'`);
    assert.equal(afterUpgrade, 'json');
    // Both scenarios abort migration "mig-1": clear the first one's row to see the trigger record the second.
    await db.dataSource.query('DELETE FROM migrations');
    const fresh = new ScenarioHost('host-after', store);
    await runScenario(fresh);

    const replay = new PostgresReplay(db.dataSource);
    for (const [host, proven] of [[old, false], [fresh, true]] as const) {
      const outcome = await replayHost(replay.source, host.hostId);
      assert.equal(outcome.problem, undefined, host.hostId);
      assert.equal(outcome.hardware.hash(), host.state.hw.hash(), host.hostId);
      const events = await sourced(replay, host.hostId);
      assert.ok(events.every((e) => e.hashProven === proven), `${host.hostId}: every row ${proven ? 'proves' : 'recomputes'} its hash`);
    }
    // The migrations trigger reads data as jsonb: it still records the migration the new scenario aborted.
    const migrations: Array<{ source_host_id: string; state: string }> = await db.dataSource.query('SELECT source_host_id, state FROM migrations');
    assert.deepEqual(migrations, [{ source_host_id: 'host-after', state: 'aborted' }]);
  });
});

describe('bulk envelope reads on the embedded PGlite', () => {
  let storage: TestStorage;
  let db: Database;

  before(async () => {
    storage = await createTestStorage('pglite');
    db = await openDatabase(storage);
  });
  after(async () => {
    await db?.close();
    await storage?.dispose();
  });

  it('composes the same proving text as PostgreSQL: every row of a scenario proves its hash', async () => {
    const host = new ScenarioHost('host-lite', new EventStore(db.dataSource));
    await runScenario(host);
    const replay = new PostgresReplay(db.dataSource);
    const events = await sourced(replay, host.hostId);
    assert.deepEqual(events.map((e) => e.envelope), host.envelopes);
    assert.ok(events.every((e) => e.hashProven === true));
    const outcome = await replayHost(replay.source, host.hostId);
    assert.equal(outcome.problem, undefined);
    assert.equal(outcome.hardware.hash(), host.state.hw.hash());
  });
});
