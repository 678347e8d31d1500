import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnModuleDestroy } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { APP_CONFIG, type AppConfig } from '../../config';
import { SchemaStatus } from '../../store/schema-status';
import { OPERATOR } from '../principal';
import type { RequestMeta } from '../request-meta';
import { MigrationProcess, reasonOf } from './migration-process';
import { MigrationRecords, type OwnedMigration } from './migration-records';

/** What MigrationAborted says when recovery finds a migration whose import never committed. */
export const INTERRUPTED_REASON = 'interrupted: the process stopped or stalled before the target imported the fd (its import is now barred there)';

const DEFAULT_STALE_MS = 60_000;
/** The sweep looks at least this often, so an orphan waits at most about stale + this. */
const MAX_SWEEP_INTERVAL_MS = 15_000;

/**
 * Finishes what a dead process left half done, through the target's fence
 * (MigrationProcess.settle): the import is barred on the target, then the source unfrozen; or,
 * if the target has imported already (the bar is refused), the source is released. The
 * target's stream decides between the import and the bar, so even a process that only stalled
 * and wakes up later cannot import after the source was unfrozen: its ImportFd is refused,
 * and it answers its client with the abort.
 *
 * Safety therefore does not depend on time. MIGRATION_STALE_MS is about liveness only: a
 * running migration may belong to a live process elsewhere, so only a stale one (running
 * longer than MIGRATION_STALE_MS, far beyond the few appends a migration takes) is taken for
 * orphaned, and never one this process is running, so as not to abort a healthy migration.
 * The sweep runs before this process serves anything, then periodically, so an orphan left by
 * a replica that died is settled without waiting for a restart.
 */
@Injectable()
export class MigrationRecovery implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger(MigrationRecovery.name);
  private readonly staleMs: number;
  private timer?: NodeJS.Timeout;
  private sweeping: Promise<void> = Promise.resolve();

  constructor(
    private readonly records: MigrationRecords,
    private readonly process: MigrationProcess,
    private readonly schema: SchemaStatus,
    @Inject(APP_CONFIG) config: AppConfig,
  ) {
    this.staleMs = config.migrationStaleMs ?? DEFAULT_STALE_MS;
  }

  async onApplicationBootstrap(): Promise<void> {
    await this.sweep();
    this.timer = setInterval(() => {
      this.sweeping = this.sweeping.then(() => this.sweep()).catch((e: unknown) => this.logger.warn(`migration recovery sweep failed: ${reasonOf(e)}`));
    }, Math.min(Math.max(this.staleMs / 2, 1000), MAX_SWEEP_INTERVAL_MS));
    this.timer.unref();
  }

  async onModuleDestroy(): Promise<void> {
    clearInterval(this.timer);
    await this.sweeping;
  }

  private async sweep(): Promise<void> {
    // RUN_MIGRATIONS=false on a schema not yet migrated: the process waits, not ready, and the
    // sweep runs once the schema is current (nothing can be running before that).
    if (!(await this.schema.isCurrent())) return;
    const now = Date.now();
    for (const migration of await this.records.running()) {
      if (now - Date.parse(migration.startedAt) < this.staleMs || this.process.isRunningHere(migration.migrationId)) continue;
      try {
        await this.settle(migration);
      } catch (e) {
        // One migration that cannot be settled must not keep the service down; the next sweep tries again.
        this.logger.error(`migration ${migration.migrationId} left running: ${reasonOf(e)}`);
      }
    }
  }

  private async settle(migration: OwnedMigration): Promise<void> {
    const settled = await this.process.settle(migration, INTERRUPTED_REASON, recoveryMeta(migration.migrationId));
    if (settled.state === 'completed') {
      this.logger.log(`migration ${migration.migrationId} completed by recovery: fd ${migration.fdId} is now ${settled.targetFdId} on ${migration.targetHostId}`);
    } else {
      const by = settled.byAnother ? 'another process' : 'recovery';
      this.logger.log(`migration ${migration.migrationId} aborted by ${by}: fd ${migration.fdId} stays on ${migration.sourceHostId}`);
    }
  }
}

/** The recovery acts as the operator; its events share one correlation id per migration. */
function recoveryMeta(migrationId: string): RequestMeta {
  const commandId = randomUUID();
  return { principal: OPERATOR, commandId, correlationId: `migration-recovery:${migrationId}` };
}
