import { Injectable, Logger, type OnApplicationBootstrap } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { OPERATOR } from '../principal';
import type { RequestMeta } from '../request-meta';
import { MigrationProcess, reasonOf } from './migration-process';
import { MigrationRecords, type OwnedMigration } from './migration-records';

/** What MigrationAborted says when a restart finds a migration whose import never committed. */
export const INTERRUPTED_REASON = 'interrupted: the process stopped before the target imported the fd';

/**
 * Finishes what a killed process left half done, before this one serves anything: a migration
 * started and not ended is completed if the target's stream has its FdImported (the VM is
 * live there), else aborted (the source is unfrozen and the target was never touched).
 */
@Injectable()
export class MigrationRecovery implements OnApplicationBootstrap {
  private readonly logger = new Logger(MigrationRecovery.name);

  constructor(
    private readonly records: MigrationRecords,
    private readonly process: MigrationProcess,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    for (const migration of await this.records.running()) {
      try {
        await this.settle(migration);
      } catch (e) {
        // One migration that cannot be settled must not keep the service down; it stays running for the next start.
        this.logger.error(`migration ${migration.migrationId} left running: ${reasonOf(e)}`);
      }
    }
  }

  private async settle(migration: OwnedMigration): Promise<void> {
    const meta = recoveryMeta(migration.migrationId);
    const importedFdId = await this.records.importedFdOf(migration.targetHostId, migration.migrationId);
    if (importedFdId !== undefined) {
      await this.process.complete(migration, importedFdId, meta);
      this.logger.log(`migration ${migration.migrationId} completed after a restart: fd ${migration.fdId} is now ${importedFdId} on ${migration.targetHostId}`);
    } else {
      await this.process.abort(migration, INTERRUPTED_REASON, meta);
      this.logger.log(`migration ${migration.migrationId} aborted after a restart: fd ${migration.fdId} stays on ${migration.sourceHostId}`);
    }
  }
}

/** The recovery acts as the operator; its events share one correlation id per migration. */
function recoveryMeta(migrationId: string): RequestMeta {
  const commandId = randomUUID();
  return { principal: OPERATOR, commandId, correlationId: `migration-recovery:${migrationId}`, requestFingerprint: commandId };
}
