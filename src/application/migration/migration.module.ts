import { Module } from '@nestjs/common';
import { ApplicationModule } from '../application.module';
import { CrashSwitch } from './crash-switch';
import { GetMigrationHandler } from './get-migration.handler';
import { MigrateFdHandler } from './migrate-fd.handler';
import { MigrationPreflight } from './migration-preflight';
import { MigrationProcess } from './migration-process';
import { MigrationRecords } from './migration-records';
import { MigrationRecovery } from './migration-recovery';

/**
 * Fd migration between hosts: the CQRS handlers behind the migration routes, the process
 * manager, and the start-up recovery. Loaded with the API roles only, so that a projector
 * process never writes.
 */
@Module({
  imports: [ApplicationModule],
  providers: [CrashSwitch, MigrationRecords, MigrationPreflight, MigrationProcess, MigrationRecovery, MigrateFdHandler, GetMigrationHandler],
})
export class MigrationModule {}
