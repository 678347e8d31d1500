import { randomBytes } from 'node:crypto';
import { Client } from 'pg';
import { openDatabase, type Database } from '../../src/store/database';

/** The real PostgreSQL of the machine (DEVELOPERS.md); TEST_PG_URL overrides it. */
export const ADMIN_URL = process.env.TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

export interface TestDatabase {
  url: string;
  name: string;
  drop(): Promise<void>;
}

/**
 * A fresh, empty database per suite, dropped at the end: suites never see each other's data.
 * With `template`, a copy of that database instead (which nothing may be connected to).
 */
export async function createTestDatabase(prefix = 'ioasid_test', template?: string): Promise<TestDatabase> {
  const name = `${prefix}_${Date.now().toString(36)}_${randomBytes(3).toString('hex')}`;
  await withAdmin((c) => c.query(`CREATE DATABASE ${name}${template ? ` TEMPLATE ${template}` : ''}`));
  return {
    url: databaseUrl(name),
    name,
    drop: () => withAdmin((c) => c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)).then(() => undefined),
  };
}

/** The URL of database `name` on the test server. */
export function databaseUrl(name: string): string {
  const url = new URL(ADMIN_URL);
  url.pathname = `/${name}`;
  return url.toString();
}

export async function databaseExists(name: string): Promise<boolean> {
  const { rows } = await withAdmin((c) => c.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]));
  return rows.length > 0;
}

/** Nothing may be connected to it. */
export async function renameDatabase(from: string, to: string): Promise<void> {
  await withAdmin((c) => c.query(`ALTER DATABASE ${from} RENAME TO ${to}`));
}

/** A suite's own database with the product's schema, opened through the store; `close` also drops it. */
export interface ScratchDatabase extends Database {
  url: string;
}

export async function openScratchDatabase(): Promise<ScratchDatabase> {
  const testDb = await createTestDatabase();
  try {
    const db = await openDatabase({ databaseUrl: testDb.url, dataDir: '.' });
    return {
      url: testDb.url,
      dataSource: db.dataSource,
      embedded: db.embedded,
      migrationsApplied: db.migrationsApplied,
      close: async () => {
        await db.close();
        await testDb.drop();
      },
    };
  } catch (e) {
    await testDb.drop();
    throw e;
  }
}

async function withAdmin<T>(fn: (c: Client) => Promise<T>): Promise<T> {
  const client = new Client({ connectionString: ADMIN_URL });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}
