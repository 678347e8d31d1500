import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { EventEnvelope } from '../../src/model/envelope';
import { canonicalJson } from '../../src/model/canonical-json';
import { openDatabase, type Database } from '../../src/store/database';
import { EventStore } from '../../src/store/event-store';
import { SnapshotStore } from '../../src/store/snapshot-store';
import { KafkaTransport } from '../../src/messaging/kafka/kafka-transport';
import { startKafkaMock, type KafkaMock } from '../support/kafka-mock';
import { createTestDatabase, type TestDatabase } from '../support/postgres';
import { storeProjection } from '../replay/projection-row';
import { runScenario, ScenarioHost } from '../replay/scenario';
import { ioasidctl } from './run-cli';

describe('ioasidctl end to end', () => {
  let testDb: TestDatabase;
  /** A database never migrated. */
  let emptyDb: TestDatabase;
  let db: Database;
  let dir: string;
  let host: ScenarioHost;
  let env: Record<string, string>;
  const cli = (...args: string[]) => ioasidctl(args, env);

  before(async () => {
    [testDb, emptyDb, dir] = await Promise.all([createTestDatabase(), createTestDatabase(), mkdtemp(join(tmpdir(), 'ioasidctl-'))]);
    db = await openDatabase({ databaseUrl: testDb.url, dataDir: dir });
    const store = new EventStore(db.dataSource);
    host = new ScenarioHost('host-cli', store, 15);
    await runScenario(host, async () => {
      await host.snapshot(new SnapshotStore(db.dataSource));
    });
    await runScenario(new ScenarioHost('host-other', store));
    await storeProjection(db.dataSource, host.hostId, host.state);
    env = { DATABASE_URL: testDb.url };
  });
  after(async () => {
    await db?.close();
    await testDb?.drop();
    await emptyDb?.drop();
    await rm(dir, { recursive: true, force: true });
  });

  describe('replay', () => {
    it('--json prints the hardware view of API.md as one line', async () => {
      const run = await cli('replay', '--host', host.hostId, '--json');
      assert.equal(run.code, 0, run.stderr);
      assert.equal(run.stderr, '');
      assert.equal(run.stdout.split('\n').length, 2, 'one line and its newline');
      assert.deepEqual(JSON.parse(run.stdout), host.state.hw.view());
    });

    it('prints PASID tables per RID, CPU translation tables, a summary and the hash', async () => {
      const run = await cli('replay', '--host', host.hostId);
      assert.equal(run.code, 0, run.stderr);
      const view = host.state.hw.view();
      assert.match(run.stdout, new RegExp(`^Host host-cli at version ${view.version} \\(.*\\), replayed from PostgreSQL, from the snapshot at version \\d+\\n`));
      for (const [rid, r] of Object.entries(view.rids)) {
        assert.match(run.stdout, new RegExp(`RID ${rid}  context: `));
        for (const [pasid, e] of Object.entries(r.pasids)) {
          assert.match(run.stdout, new RegExp(`\\n  ${pasid} +${e.fdId} +${e.ioasid} +${e.origin} +nested +${e.firstStageGpa} +${e.domainId}\\n`));
        }
      }
      assert.match(run.stdout, /guest PASID table at 0xb00000/);
      assert.match(run.stdout, /CPU PASID translation tables\n  VM vm-a\n    GUEST PASID  HOST PASID\n    7 +\d+\n/);
      assert.match(run.stdout, new RegExp(`Summary: 4 RIDs, \\d+ PASID entries, 1 VM with 1 CPU PASID mapping; allocator ${view.allocator.used} used`));
      assert.ok(run.stdout.endsWith(`Hash: ${view.hash}\n`));
    });

    it('--to-version N gives the state at version N', async () => {
      for (const version of [1, 8, 25]) {
        const run = await cli('replay', '--host', host.hostId, '--to-version', String(version), '--json');
        assert.equal(run.code, 0, run.stderr);
        assert.deepEqual(JSON.parse(run.stdout), host.versions[version - 1]!.view);
      }
    });

    it('--at gives the state after the last event at or before the time', async () => {
      const target = host.versions[17]!;
      const last = host.versions.filter((v) => v.occurredAt <= target.occurredAt).at(-1)!;
      const run = await cli('replay', '--host', host.hostId, '--at', target.occurredAt, '--json');
      assert.equal(run.code, 0, run.stderr);
      assert.deepEqual(JSON.parse(run.stdout), last.view);
      const human = await cli('replay', '--host', host.hostId, '--at', target.occurredAt);
      assert.match(human.stdout, new RegExp(`^Host host-cli at version ${last.version} \\(${last.occurredAt}\\)`));
    });

    it('--verify checks the chain and the live projection', async () => {
      const run = await cli('replay', '--host', host.hostId, '--verify');
      assert.equal(run.code, 0, run.stderr);
      assert.match(run.stdout, new RegExp(`Verification: OK: the hash chain in PostgreSQL is intact from version 1 to ${host.state.version}; compared with the live projection at version ${host.state.version}`));
      const json = await cli('replay', '--host', host.hostId, '--verify', '--json');
      const line = JSON.parse(json.stdout) as { hash: string; verify: { ok: boolean; version: number; hash: string } };
      assert.equal(line.hash, host.state.hw.hash());
      assert.deepEqual([line.verify.ok, line.verify.version, line.verify.hash], [true, host.state.version, host.state.hw.hash()]);
    });
  });

  describe('export and offline replay', () => {
    it('exports NDJSON that replays to the same state, without the database', async () => {
      const out = join(dir, 'host-cli.ndjson');
      const run = await cli('export', '--host', host.hostId, '--out', out);
      assert.equal(run.code, 0, run.stderr);
      assert.match(run.stderr, new RegExp(`exported ${host.state.version} events of host host-cli \\(last version ${host.state.version}\\)`));
      const lines = (await readFile(out, 'utf8')).trimEnd().split('\n');
      assert.deepEqual(lines, host.envelopes.map((e) => canonicalJson(e)));

      const offline = await ioasidctl(['replay', '--host', host.hostId, '--from', `file:${out}`, '--json'], {});
      assert.equal(offline.code, 0, offline.stderr);
      assert.deepEqual(JSON.parse(offline.stdout), host.state.hw.view());
      const verified = await cli('replay', '--host', host.hostId, '--from', `file:${out}`, '--verify');
      assert.equal(verified.code, 0, verified.stderr);
      assert.match(verified.stdout, /hash chain in file host-cli\.ndjson is intact/);
    });
  });

  describe('replay --from kafka', () => {
    let mock: KafkaMock;
    const topic = 'cli-events';

    before(async () => {
      mock = await startKafkaMock({ brokerCount: 1 });
      const transport = new KafkaTransport({ brokers: mock.brokers, topic, mode: 'publish' });
      try {
        for (let i = 0; i < host.envelopes.length; i += 10) await transport.publish(host.envelopes.slice(i, i + 10));
      } finally {
        await transport.close();
      }
    });
    after(async () => {
      await mock?.stop();
    });

    it('reads the topic named by KAFKA_TOPIC from KAFKA_BROKERS', async () => {
      const run = await cli('replay', '--host', host.hostId, '--from', 'kafka', '--json');
      assert.equal(run.code, 2, 'without KAFKA_BROKERS it is a usage error');
      const kafkaEnv = { ...env, KAFKA_BROKERS: mock.brokers.join(','), KAFKA_TOPIC: topic };
      const read = await ioasidctl(['replay', '--host', host.hostId, '--from', 'kafka', '--to-version', '12', '--json'], kafkaEnv);
      assert.equal(read.code, 0, read.stderr);
      assert.deepEqual(JSON.parse(read.stdout), host.versions[11]!.view);
      const verified = await ioasidctl(['replay', '--host', host.hostId, '--from', 'kafka', '--verify'], kafkaEnv);
      assert.equal(verified.code, 0, verified.stderr);
      assert.match(verified.stdout, /hash chain in Kafka topic cli-events is intact from version 1 to \d+; compared with the live projection/);
    });

    it('says when the brokers cannot be reached (exit 4)', async () => {
      const run = await ioasidctl(['replay', '--host', host.hostId, '--from', 'kafka'], { ...env, KAFKA_BROKERS: '127.0.0.1:1' });
      assert.equal(run.code, 4, run.stderr);
      assert.match(run.stderr, /^ioasidctl: error: cannot reach Kafka at 127\.0\.0\.1:1: [^\n]+\n$/);
    });
  });

  describe('audit', () => {
    it('--json prints the log as NDJSON in commit order, filtered', async () => {
      const all = await cli('audit', '--host', host.hostId, '--json');
      assert.equal(all.code, 0, all.stderr);
      const envelopes = all.stdout.trimEnd().split('\n').map((l) => JSON.parse(l) as EventEnvelope);
      assert.deepEqual(envelopes, host.envelopes);

      const created = await cli('audit', '--type', 'FdCreated', '--json');
      const types = created.stdout.trimEnd().split('\n').map((l) => JSON.parse(l) as EventEnvelope);
      assert.deepEqual(new Set(types.map((e) => e.type)), new Set(['FdCreated']));
      assert.deepEqual(new Set(types.map((e) => e.hostId)), new Set(['host-cli', 'host-other']));

      const fd = await cli('audit', '--fd', host.fd('b'), '--json');
      const fdEvents = fd.stdout.trimEnd().split('\n').map((l) => JSON.parse(l) as EventEnvelope);
      assert.deepEqual(fdEvents, host.envelopes.filter((e) => (e.data as { fdId?: string }).fdId === host.fd('b')));

      const since = host.envelopes[30]!.occurredAt;
      const recent = await cli('audit', '--host', host.hostId, '--since', since, '--json');
      assert.deepEqual(
        recent.stdout.trimEnd().split('\n').map((l) => (JSON.parse(l) as EventEnvelope).version),
        host.envelopes.filter((e) => e.occurredAt >= since).map((e) => e.version),
      );
    });

    it('prints a table for people, and says when nothing matches', async () => {
      const run = await cli('audit', '--host', host.hostId, '--type', 'HostRegistered');
      assert.equal(run.code, 0, run.stderr);
      const [header, row, ...rest] = run.stdout.trimEnd().split('\n');
      assert.match(header!, /^OCCURRED AT +HOST +VERSION +TYPE +FD +ACTOR +EVENT ID$/);
      assert.match(row!, /^\S+Z +host-cli +1 +HostRegistered +- +operator +[0-9a-f-]{36}$/);
      assert.deepEqual(rest, []);
      const none = await cli('audit', '--host', host.hostId, '--type', 'FdImported');
      assert.deepEqual([none.code, none.stdout, none.stderr], [0, '', 'ioasidctl: no events match\n']);
    });
  });

  describe('errors: one line on stderr and a documented exit code', { concurrency: 4 }, () => {
    // args and env are functions: the suite's host and directory exist only once `before` has run.
    const cases: Array<{ name: string; args: () => string[]; env?: () => Record<string, string>; code: number; message: RegExp }> = [
      { name: 'unknown host', args: () => ['replay', '--host', 'nope'], code: 3, message: /host "nope" has no events in PostgreSQL/ },
      { name: 'version past the end', args: () => ['replay', '--host', host.hostId, '--to-version', '9999'], code: 3, message: /no version 9999/ },
      { name: 'bad version', args: () => ['replay', '--host', host.hostId, '--to-version', '0'], code: 2, message: /bad version "0"/ },
      { name: 'bad time', args: () => ['replay', '--host', host.hostId, '--at', 'yesterday'], code: 2, message: /bad time "yesterday"/ },
      { name: 'time before the first event', args: () => ['replay', '--host', host.hostId, '--at', '2001-01-01T00:00:00Z'], code: 3, message: /no event at or before 2001-01-01T00:00:00.000Z/ },
      { name: 'version and time together', args: () => ['replay', '--host', host.hostId, '--at', '2001-01-01', '--to-version', '3'], code: 2, message: /cannot be used with/ },
      { name: 'missing file', args: () => ['replay', '--host', host.hostId, '--from', `file:${join(dir, 'missing.ndjson')}`], code: 3, message: /cannot read .*missing\.ndjson: no such file/ },
      { name: 'unknown source', args: () => ['replay', '--host', host.hostId, '--from', 'mysql'], code: 2, message: /bad source "mysql"/ },
      { name: 'kafka without brokers', args: () => ['replay', '--host', host.hostId, '--from', 'kafka'], code: 2, message: /--from kafka needs KAFKA_BROKERS/ },
      {
        name: 'database unreachable',
        args: () => ['replay', '--host', host.hostId],
        env: () => ({ DATABASE_URL: 'postgres://postgres@127.0.0.1:1/none' }),
        code: 4,
        message: /database unreachable/,
      },
      {
        name: 'a database without the schema',
        args: () => ['replay', '--host', host.hostId],
        env: () => ({ DATABASE_URL: emptyDb.url }),
        code: 4,
        message: /the database has no IOASID Manager schema \(relation "\w+" does not exist\)/,
      },
      { name: 'no database at all', args: () => ['audit'], env: () => ({ DATA_DIR: join(dir, 'no-data') }), code: 4, message: /no database: DATABASE_URL is unset/ },
      { name: 'export of an unknown host', args: () => ['export', '--host', 'nope', '--out', join(dir, 'x.ndjson')], code: 3, message: /unknown host nope/ },
      { name: 'export to a missing directory', args: () => ['export', '--host', host.hostId, '--out', join(dir, 'no', 'x.ndjson')], code: 3, message: /cannot write/ },
      { name: 'audit of an unknown host', args: () => ['audit', '--host', 'nope'], code: 3, message: /unknown host nope/ },
      { name: 'unknown event type', args: () => ['audit', '--type', 'FdOpened'], code: 2, message: /unknown event type "FdOpened"/ },
      { name: 'unknown command', args: () => ['rewind'], code: 2, message: /unknown command 'rewind'/ },
    ];
    for (const c of cases) {
      it(c.name, async () => {
        const run = await ioasidctl(c.args(), c.env?.() ?? env);
        assert.equal(run.code, c.code, `exit code; stderr: ${run.stderr}`);
        assert.equal(run.stdout, '');
        assert.match(run.stderr, /^ioasidctl: error: [^\n]+\n$/, 'exactly one line');
        assert.match(run.stderr, c.message);
      });
    }
  });
});
