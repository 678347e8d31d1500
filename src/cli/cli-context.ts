import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { ConfigError, loadConfig, type AppConfig } from '../config';
import type { EventSource } from '../replay/event-source';
import { NdjsonFileSource } from '../replay/file-source';
import { KafkaEventSource } from '../replay/kafka-source';
import { PostgresReplay } from '../replay/postgres-replay';
import { openDatabase, type Database } from '../store/database';
import { EventReads } from '../store/event-reads';
import { HardwareProjectionStore } from '../store/hardware-projection-store';
import { HostDirectory } from '../store/host-directory';
import { CliError, EXIT } from './exit-codes';
import type { SourceSpec } from './options';

/**
 * What a command needs from the environment, opened on first use and closed once at the
 * end: the same settings as the server (src/config.ts), the database, the event sources.
 */
export class CliContext {
  private database?: Promise<Database>;

  private constructor(readonly config: AppConfig) {}

  static fromEnv(env: NodeJS.ProcessEnv = process.env): CliContext {
    try {
      return new CliContext(loadConfig(env));
    } catch (e) {
      if (e instanceof ConfigError) throw new CliError(e.message, EXIT.USAGE);
      throw e;
    }
  }

  async reads(): Promise<EventReads> {
    return new EventReads((await this.db()).dataSource);
  }

  async hosts(): Promise<HostDirectory> {
    return new HostDirectory((await this.db()).dataSource);
  }

  /** The database's events, time index and snapshots. */
  async postgres(): Promise<PostgresReplay> {
    return new PostgresReplay((await this.db()).dataSource);
  }

  /** The projector's stored hardware: the live state `replay --verify` compares with. */
  async projections(): Promise<HardwareProjectionStore> {
    return new HardwareProjectionStore((await this.db()).dataSource);
  }

  async source(spec: SourceSpec): Promise<EventSource> {
    switch (spec.kind) {
      case 'postgres':
        return (await this.postgres()).source;
      case 'file':
        return new NdjsonFileSource(spec.path);
      case 'kafka':
        if (!this.config.kafkaBrokers?.length) throw new CliError('--from kafka needs KAFKA_BROKERS (comma-separated bootstrap servers)', EXIT.USAGE);
        return new KafkaEventSource({ brokers: this.config.kafkaBrokers, topic: this.config.kafkaTopic });
    }
  }

  async close(): Promise<void> {
    const database = this.database;
    this.database = undefined;
    if (database) await database.then((d) => d.close()).catch(() => undefined);
  }

  private db(): Promise<Database> {
    this.database ??= this.open();
    return this.database;
  }

  private async open(): Promise<Database> {
    const { databaseUrl, dataDir } = this.config;
    // Opening an empty DATA_DIR would create a new, empty database: say where we looked instead.
    if (!databaseUrl && !existsSync(join(dataDir, 'PG_VERSION'))) {
      throw new CliError(`no database: DATABASE_URL is unset and there is no embedded database in ${resolve(dataDir)} (DATA_DIR)`, EXIT.UNAVAILABLE);
    }
    // A reader: it never migrates the schema of the server it inspects.
    return openDatabase({ databaseUrl, dataDir, runMigrations: false, poolSize: 3 });
  }
}
