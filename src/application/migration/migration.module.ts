import { Module } from '@nestjs/common';
import { ApplicationModule } from '../application.module';
import { CrashSwitch } from './crash-switch';
import { FdMigrator } from './fd-migrator';
import { GetMigrationHandler } from './get-migration.handler';
import { MigrationPreflight } from './migration-preflight';
import { MigrationProcess } from './migration-process';
import { MigrationRecords } from './migration-records';
import { MigrationRecovery } from './migration-recovery';

/**
 * Fd migration between hosts: the migrator and query handler behind the migration
 * operations, the process manager, and the start-up recovery. Loaded with the API roles only, so that a projector
 * process never writes.
 */
@Module({
  imports: [ApplicationModule],
  providers: [CrashSwitch, MigrationRecords, MigrationPreflight, MigrationProcess, MigrationRecovery, FdMigrator, GetMigrationHandler],
  exports: [FdMigrator],
})
export class MigrationModule {}
