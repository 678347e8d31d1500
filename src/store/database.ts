import { mkdir } from 'node:fs/promises';
import { resolve } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { PGLiteSocketServer } from '@electric-sql/pglite-socket';
import { DataSource } from 'typeorm';
import { MIGRATIONS } from '../../migrations';
import type { AppConfig } from '../config';
import { toStoreError } from './store-errors';

/**
 * Bound on one query to real PostgreSQL. A network partition leaves the socket open and silent:
 * without it a query (and the host lock or transaction waiting on it) hangs until TCP gives up,
 * minutes later. It ends as UNAVAILABLE (503, retry); the embedded database has no network to lose.
 */
export const QUERY_TIMEOUT_MS = 10_000;

export type DatabaseConfig = Pick<AppConfig, 'databaseUrl' | 'dataDir'> & {
  /** Apply pending migrations when opening (default true). */
  runMigrations?: boolean;
  /** Connections to real PostgreSQL (default 10); the embedded database always has one. */
  poolSize?: number;
};

/** An open database: the TypeORM data source every store class queries, and how to let it go. */
export interface Database {
  readonly dataSource: DataSource;
  /** True when this is the embedded PGlite (one connection). */
  readonly embedded: boolean;
  close(): Promise<void>;
}

/**
 * Opens PostgreSQL at `databaseUrl`, or, when unset, the embedded PGlite in `dataDir` behind a
 * loopback socket so that the same `pg` driver, SQL and migrations serve both.
 * Usable outside Nest (CLI, benches).
 */
export async function openDatabase(config: DatabaseConfig): Promise<Database> {
  const runMigrations = config.runMigrations ?? true;
  if (config.databaseUrl) {
    const dataSource = await initialize(config.databaseUrl, config.poolSize ?? 10, runMigrations, QUERY_TIMEOUT_MS);
    return { dataSource, embedded: false, close: () => destroy(dataSource) };
  }
  const embedded = await startEmbedded(config.dataDir);
  try {
    // PGlite runs one query at a time and its socket server accepts one connection.
    const dataSource = await initialize(embedded.url, 1, runMigrations);
    return {
      dataSource,
      embedded: true,
      close: async () => {
        await destroy(dataSource);
        await embedded.stop();
      },
    };
  } catch (e) {
    await embedded.stop();
    throw e;
  }
}

async function initialize(url: string, poolSize: number, runMigrations: boolean, queryTimeoutMs?: number): Promise<DataSource> {
  const dataSource = new DataSource({
    type: 'postgres',
    url,
    migrations: MIGRATIONS,
    // Not TypeORM's default "migrations": that name belongs to the fd migrations read model.
    migrationsTableName: 'schema_migrations',
    migrationsRun: false,
    synchronize: false,
    // Query errors are handled (and mapped) by the callers; logging them here would double-report expected conflicts.
    logging: ['migration'],
    connectTimeoutMS: 5000,
    extra: { max: poolSize, connectionTimeoutMillis: 5000, ...(queryTimeoutMs ? { query_timeout: queryTimeoutMs } : {}) },
  });
  try {
    await dataSource.initialize();
    if (runMigrations) await dataSource.runMigrations({ transaction: 'each' });
  } catch (e) {
    if (dataSource.isInitialized) await dataSource.destroy().catch(() => undefined);
    throw toStoreError(e);
  }
  return dataSource;
}

async function destroy(dataSource: DataSource): Promise<void> {
  if (dataSource.isInitialized) await dataSource.destroy();
}

interface EmbeddedServer {
  url: string;
  stop(): Promise<void>;
}

async function startEmbedded(dataDir: string): Promise<EmbeddedServer> {
  const dir = resolve(dataDir);
  await mkdir(dir, { recursive: true });
  const db = await PGlite.create(dir);
  const server = new PGLiteSocketServer({ db, host: '127.0.0.1', port: 0 });
  try {
    await server.start();
  } catch (e) {
    await db.close();
    throw e;
  }
  // The server exposes no accessor for the port the OS chose.
  const { port } = (server as unknown as { server: { address(): { port: number } } }).server.address();
  return {
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    stop: async () => {
      await server.stop();
      if (!db.closed) await db.close();
    },
  };
}
