import { Global, Inject, Injectable, Module, type BeforeApplicationShutdown, type OnApplicationShutdown } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { APP_CONFIG, type AppConfig } from '../config';
import { openDatabase, type Database } from './database';
import { EventStore } from './event-store';
import { FdDirectory } from './fd-directory';
import { HardwareProjectionStore } from './hardware-projection-store';
import { HostDirectory } from './host-directory';
import { IdempotencyHousekeeping } from './idempotency-housekeeping';
import { IdempotencyStore } from './idempotency-store';
import { SchemaStatus } from './schema-status';
import { SnapshotStore } from './snapshot-store';
import { TenantRepository } from './tenant-repository';

export const DATABASE = Symbol('DATABASE');

/** Lets queued appends finish before the database goes, and closes it last. */
@Injectable()
class DatabaseLifecycle implements BeforeApplicationShutdown, OnApplicationShutdown {
  constructor(
    @Inject(DATABASE) private readonly database: Database,
    private readonly events: EventStore,
  ) {}

  async beforeApplicationShutdown(): Promise<void> {
    await this.events.flush();
  }

  async onApplicationShutdown(): Promise<void> {
    await this.database.close();
  }
}

/** PostgreSQL or the embedded PGlite (APP_CONFIG.databaseUrl), and every repository over it. */
@Global()
@Module({
  providers: [
    {
      provide: DATABASE,
      inject: [APP_CONFIG],
      useFactory: (config: AppConfig): Promise<Database> =>
        openDatabase({ databaseUrl: config.databaseUrl, dataDir: config.dataDir, runMigrations: config.runMigrations, poolSize: config.databasePoolSize }),
    },
    { provide: DataSource, inject: [DATABASE], useFactory: (database: Database) => database.dataSource },
    EventStore,
    FdDirectory,
    HardwareProjectionStore,
    HostDirectory,
    IdempotencyStore,
    IdempotencyHousekeeping,
    SchemaStatus,
    SnapshotStore,
    TenantRepository,
    DatabaseLifecycle,
  ],
  exports: [DATABASE, DataSource, EventStore, FdDirectory, HardwareProjectionStore, HostDirectory, IdempotencyStore, IdempotencyHousekeeping, SchemaStatus, SnapshotStore, TenantRepository],
})
export class StoreModule {}
