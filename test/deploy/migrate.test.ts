import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Client } from 'pg';
import { createTestDatabase, type TestDatabase } from '../support/postgres';
import { lines, runNode } from '../support/node-process';

const MIGRATE = 'dist/src/migrate.js';

function jsonLines(text: string): Array<Record<string, unknown>> {
  return lines(text).map((l) => {
    try {
      return JSON.parse(l) as Record<string, unknown>;
    } catch {
      throw new Error(`not a JSON log line: ${l}`);
    }
  });
}

describe('migrate.js (npm run migrate, the init container of every Deployment)', () => {
  let db: TestDatabase;
  before(async () => {
    db = await createTestDatabase('ioasid_migrate');
  });
  after(async () => {
    await db.drop();
  });

  it('applies the schema to an empty database and exits 0', async () => {
    const run = await runNode(MIGRATE, { DATABASE_URL: db.url });
    assert.equal(run.code, 0, run.stdout + run.stderr);
    const logged = jsonLines(run.stdout);
    assert.ok(logged.some((l) => l.msg === 'schema is up to date' && l.context === 'migrate'));

    const client = new Client({ connectionString: db.url });
    await client.connect();
    try {
      const { rows } = await client.query(`SELECT to_regclass('events') IS NOT NULL AS present`);
      assert.equal(rows[0].present, true);
    } finally {
      await client.end();
    }
  });

  it('is a no-op on an up-to-date database', async () => {
    const run = await runNode(MIGRATE, { DATABASE_URL: db.url });
    assert.equal(run.code, 0, run.stdout + run.stderr);
  });

  it('exits non-zero with one error line, without the password, when the database is unreachable', async () => {
    const password = 'pw-that-must-not-be-logged';
    // Port 1 on loopback: nothing listens there, the connection is refused at once.
    const run = await runNode(MIGRATE, { DATABASE_URL: `postgres://ioasid:${password}@127.0.0.1:1/ioasid` });
    assert.notEqual(run.code, 0);
    const output = run.stdout + run.stderr;
    assert.ok(!output.includes(password), output);
    const errors = jsonLines(run.stdout).filter((l) => l.level === 'error');
    assert.equal(errors.length, 1, output);
    assert.match(String(errors[0].msg), /^migration failed: .+/);
  });

  it('exits non-zero with one error line on invalid configuration', async () => {
    const run = await runNode(MIGRATE, { DATABASE_URL: db.url, LOG_LEVEL: 'chatty' });
    assert.notEqual(run.code, 0);
    const [line, ...rest] = jsonLines(run.stdout);
    assert.deepEqual(rest, []);
    assert.equal(line.level, 'error');
    assert.match(String(line.msg), /LOG_LEVEL/);
  });
});
