import { MIGRATIONS } from '../migrations';
import { loadConfig } from './config';
import { isDomainError } from './model/errors';
import { createLogger, JsonLogger } from './observability/logger';
import { openDatabase } from './store/database';

/**
 * `npm run migrate`, the init container of every Deployment (deploy/k8s): applies the pending
 * migrations to DATABASE_URL (or the embedded database in DATA_DIR) and exits 0; on failure
 * it writes one error line and exits 1. Any number may run at once: one migrates under the
 * advisory lock, the others wait and find nothing to do (store/database.ts). The servers then
 * start with RUN_MIGRATIONS=false.
 */
async function migrate(logger: JsonLogger): Promise<void> {
  const config = loadConfig();
  const db = await openDatabase({ databaseUrl: config.databaseUrl, dataDir: config.dataDir, runMigrations: true, poolSize: 1 });
  try {
    const latest = MIGRATIONS[MIGRATIONS.length - 1]?.name;
    logger.log({ msg: 'schema is up to date', latest, migrations: MIGRATIONS.length, applied: db.migrationsApplied }, 'migrate');
  } finally {
    await db.close();
  }
}

/** The failure as one readable line: the message, and the driver's reason when the store wrapped it. */
function describeFailure(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  const cause = isDomainError(err) ? err.details?.cause : undefined;
  return cause ? `${err.message}: ${String(cause)}` : err.message;
}

// A bad LOG_LEVEL must still be reported: fall back to the default logger for that one line.
function processLogger(): JsonLogger {
  try {
    return createLogger(loadConfig());
  } catch {
    return new JsonLogger();
  }
}

const logger = processLogger();
migrate(logger).then(
  () => process.exit(0),
  (err: unknown) => {
    logger.error({ msg: `migration failed: ${describeFailure(err)}` }, 'migrate');
    process.exit(1);
  },
);
