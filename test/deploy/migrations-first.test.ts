import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Client } from 'pg';
import { MIGRATIONS } from '../../migrations';
import { openDatabase } from '../../src/store/database';
import { healthStatus, readUntil as readUntilGrpc } from '../grpc/grpc-client';
import { expectStatus, readUntil, startTestApp, type TestApp } from '../support/app';
import { lines, runNode } from '../support/node-process';
import { createTestDatabase, type TestDatabase } from '../support/postgres';

const MIGRATE = 'dist/src/migrate.js';
const NAMES = MIGRATIONS.map((m) => new m().name);

async function appliedRows(url: string): Promise<string[]> {
  const client = new Client({ connectionString: url });
  await client.connect();
  try {
    const { rows } = await client.query('SELECT name FROM schema_migrations ORDER BY id');
    return rows.map((r) => r.name as string);
  } finally {
    await client.end();
  }
}

/** The `applied` list of migrate.js's "schema is up to date" line. */
function appliedBy(stdout: string): string[] {
  const line = lines(stdout).map((l) => JSON.parse(l)).find((l) => l.msg === 'schema is up to date');
  assert.ok(line, stdout);
  return line.applied;
}

describe('migrations under an advisory lock', () => {
  const dbs: TestDatabase[] = [];
  after(async () => {
    for (const db of dbs) await db.drop();
  });

  it('several migrate processes started at once on an empty database: exactly one migrates, all succeed', async () => {
    const db = await createTestDatabase('ioasid_lock');
    dbs.push(db);
    const runs = await Promise.all(Array.from({ length: 4 }, () => runNode(MIGRATE, { DATABASE_URL: db.url })));
    for (const run of runs) assert.equal(run.code, 0, run.stdout + run.stderr);
    const applied = runs.map((r) => appliedBy(r.stdout));
    assert.equal(applied.filter((a) => a.length > 0).length, 1, `one process migrated: ${JSON.stringify(applied)}`);
    assert.deepEqual(applied.flat(), NAMES);
    assert.deepEqual(await appliedRows(db.url), NAMES, 'each migration recorded once, in order');
  });

  it('several data sources opened at once in one process: one migrates, all open', async () => {
    const db = await createTestDatabase('ioasid_lock');
    dbs.push(db);
    const opened = await Promise.all(Array.from({ length: 3 }, () => openDatabase({ databaseUrl: db.url, dataDir: '.', poolSize: 2 })));
    try {
      assert.deepEqual(opened.map((d) => d.migrationsApplied.length).sort(), [0, 0, NAMES.length]);
      assert.deepEqual(await appliedRows(db.url), NAMES);
    } finally {
      for (const d of opened) await d.close();
    }
  });
});

describe('RUN_MIGRATIONS=false on a schema that is behind', () => {
  let db: TestDatabase;
  let api: TestApp;

  before(async () => {
    db = await createTestDatabase('ioasid_behind');
    api = await startTestApp({ DATABASE_URL: db.url, ROLE: 'api', RUN_MIGRATIONS: 'false', LOG_LEVEL: 'fatal' });
  });
  after(async () => {
    await api?.close();
    await db?.drop();
  });

  it('stays up, answers /healthz, is not ready (REST and gRPC) with migrations pending, and becomes ready once migrated', async () => {
    expectStatus(await api.operator.get('/healthz'), 200);
    const pending = await api.operator.get('/readyz');
    assert.equal(pending.status, 503, pending.text);
    assert.equal(pending.body.migrations, 'pending');
    assert.deepEqual(pending.body.pendingMigrations, NAMES);
    assert.equal(pending.body.database, true);
    const grpcUrl = api.started.grpcUrl!;
    assert.equal(await healthStatus(grpcUrl, ''), 'NOT_SERVING');
    assert.equal(await healthStatus(grpcUrl, 'ioasid.v1.IoasidService'), 'NOT_SERVING');

    const run = await runNode(MIGRATE, { DATABASE_URL: db.url });
    assert.equal(run.code, 0, run.stdout + run.stderr);

    const ready = await readUntil(() => api.operator.get('/readyz'), (r) => r.status === 200);
    expectStatus(ready, 200);
    assert.equal(ready.body.migrations, 'current');
    assert.equal(await readUntilGrpc(() => healthStatus(grpcUrl, 'ioasid.v1.IoasidService'), (s) => s === 'SERVING'), 'SERVING');
    assert.equal(await healthStatus(grpcUrl, ''), 'SERVING');
    expectStatus(await api.operator.post('/v1/tenants', { name: 'after-migration' }), 201);
  });
});
