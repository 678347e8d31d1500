import { mkdir } from 'node:fs/promises';
import type { Socket } from 'node:net';
import { resolve } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { PGLiteSocketServer } from '@electric-sql/pglite-socket';
import type { Pool, PoolClient } from 'pg';
import { DataSource, MigrationExecutor } from 'typeorm';
import { MIGRATIONS } from '../../migrations';
import { DEFAULT_DATABASE_POOL_SIZE, type AppConfig } from '../config';
import { toStoreError } from './store-errors';

/**
 * Bound on one query to real PostgreSQL. A network partition leaves the socket open and silent:
 * without it a query (and the host lock or transaction waiting on it) hangs until TCP gives up,
 * minutes later. It ends as UNAVAILABLE (503, retry); the embedded database has no network to lose.
 */
export const QUERY_TIMEOUT_MS = 10_000;

/** TypeORM's bookkeeping table; not its default "migrations": that name belongs to the fd migrations read model. */
export const MIGRATIONS_TABLE = 'schema_migrations';

/**
 * The transaction-scoped advisory lock every migrating process takes first (any fixed 64-bit
 * number; this one spells "ioasid" in ASCII). Whoever gets it applies what is pending and commits;
 * the others wait, then find nothing pending.
 */
export const MIGRATION_LOCK_KEY = 0x696f61736964;

export type DatabaseConfig = Pick<AppConfig, 'databaseUrl' | 'dataDir'> & {
  /** Apply pending migrations when opening (default true). */
  runMigrations?: boolean;
  /** Connections to real PostgreSQL (default DEFAULT_DATABASE_POOL_SIZE); the embedded database always has one. */
  poolSize?: number;
};

/** An open database: the TypeORM data source every store class queries, and how to let it go. */
export interface Database {
  readonly dataSource: DataSource;
  /** True when this is the embedded PGlite (one connection). */
  readonly embedded: boolean;
  /** The migrations this open applied (empty when another process had, or when not migrating). */
  readonly migrationsApplied: readonly string[];
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
    const { dataSource, migrationsApplied } = await initialize(config.databaseUrl, config.poolSize ?? DEFAULT_DATABASE_POOL_SIZE, runMigrations, QUERY_TIMEOUT_MS);
    return { dataSource, embedded: false, migrationsApplied, close: () => destroy(dataSource) };
  }
  const embedded = await startEmbedded(config.dataDir);
  try {
    // PGlite runs one query at a time and its socket server accepts one connection.
    const { dataSource, migrationsApplied } = await initialize(embedded.url, 1, runMigrations);
    return {
      dataSource,
      embedded: true,
      migrationsApplied,
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

async function initialize(url: string, poolSize: number, runMigrations: boolean, queryTimeoutMs?: number): Promise<{ dataSource: DataSource; migrationsApplied: string[] }> {
  let migrationsApplied: string[] = [];
  if (runMigrations && queryTimeoutMs) {
    // A migration may run long (an index on a big table): it gets a connection without the query timeout.
    const migrator = await connect(url, 1);
    migrationsApplied = await migrate(migrator).finally(() => destroy(migrator).catch(() => undefined));
  }
  const dataSource = await connect(url, poolSize, queryTimeoutMs);
  if (runMigrations && !queryTimeoutMs) {
    migrationsApplied = await migrate(dataSource).catch(async (e: unknown) => {
      await destroy(dataSource).catch(() => undefined);
      throw e;
    });
  }
  return { dataSource, migrationsApplied };
}

async function connect(url: string, poolSize: number, queryTimeoutMs?: number): Promise<DataSource> {
  const dataSource = new DataSource({
    type: 'postgres',
    url,
    migrations: MIGRATIONS,
    migrationsTableName: MIGRATIONS_TABLE,
    migrationsRun: false,
    synchronize: false,
    // Query errors are handled (and mapped) by the callers; logging them here would double-report expected conflicts.
    logging: ['migration'],
    connectTimeoutMS: 5000,
    extra: { max: poolSize, connectionTimeoutMillis: 5000, ...(queryTimeoutMs ? { query_timeout: queryTimeoutMs } : {}) },
  });
  try {
    await dataSource.initialize();
  } catch (e) {
    await destroy(dataSource).catch(() => undefined);
    throw toStoreError(e);
  }
  if (queryTimeoutMs) closeConnectionsOnQueryTimeout(dataSource);
  return dataSource;
}

/**
 * A query that timed out leaves its connection mid-statement, perhaps inside an open transaction
 * whose statements may still arrive: handed out again, a later COMMIT could commit them. TypeORM
 * returns connections to the pool without an error, so the connection is closed here instead;
 * the pool then drops it and PostgreSQL rolls back whatever it held.
 */
function closeConnectionsOnQueryTimeout(dataSource: DataSource): void {
  const pool = (dataSource.driver as unknown as { master: Pool }).master;
  const watched = new WeakSet<PoolClient>();
  pool.on('acquire', (client) => {
    if (watched.has(client)) return;
    watched.add(client);
    const query = client.query.bind(client) as (...args: unknown[]) => unknown;
    (client as { query: unknown }).query = (...args: unknown[]) => {
      const result = query(...args);
      if (result instanceof Promise) {
        result.catch((e: unknown) => {
          if (e instanceof Error && e.message === 'Query read timeout') (client as unknown as { connection: { stream: Socket } }).connection.stream.destroy();
        });
      }
      return result;
    };
  });
}

/**
 * Applies the pending migrations in one transaction that first takes MIGRATION_LOCK_KEY, so any
 * number of processes may start at once on one database: one migrates, the others wait for its
 * commit and then find nothing pending. The lock is the transaction's, not the session's, so it
 * also holds behind a PgBouncer in transaction mode, and a process that dies mid-way releases
 * it with its rolled-back transaction. All or nothing: a failed migration leaves the schema as
 * it was. Returns the names applied here.
 */
async function migrate(dataSource: DataSource): Promise<string[]> {
  const runner = dataSource.createQueryRunner();
  try {
    await runner.connect();
    await runner.startTransaction();
    await runner.query('SELECT pg_advisory_xact_lock($1)', [MIGRATION_LOCK_KEY]);
    const executor = new MigrationExecutor(dataSource, runner);
    // Inside the transaction begun here: TypeORM neither begins nor commits one of its own.
    executor.transaction = 'all';
    const applied = await executor.executePendingMigrations();
    await runner.commitTransaction();
    return applied.map((m) => m.name);
  } catch (e) {
    if (runner.isTransactionActive) await runner.rollbackTransaction().catch(() => undefined);
    throw toStoreError(e);
  } finally {
    await runner.release();
  }
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
