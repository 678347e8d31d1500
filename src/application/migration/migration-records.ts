import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import type { MigrationRecord, MigrationState } from '../../model/views';
import { storeCall } from '../../store/store-errors';

/** A record with the tenant that owns the migrated fd, for scoping. */
export interface OwnedMigration extends MigrationRecord {
  tenantId?: string;
}

/**
 * The migrations read model (migrations/1732430000000-migrations-read-model.ts): a trigger
 * writes it in the transaction of each migration event, so reading it is reading the events.
 * The target's MigrationImportBarred is not one of them: it ends nothing, the migration stays
 * running until the source's MigrationAborted.
 */
@Injectable()
export class MigrationRecords {
  constructor(private readonly dataSource: DataSource) {}

  async find(migrationId: string): Promise<OwnedMigration | undefined> {
    const rows: MigrationRow[] = await storeCall(() => this.dataSource.query(`SELECT * FROM migrations WHERE migration_id = $1`, [migrationId]));
    return rows.length ? recordOf(rows[0]) : undefined;
  }

  /** Started and not ended, oldest first: what a process killed mid-way left behind. */
  async running(): Promise<OwnedMigration[]> {
    const rows: MigrationRow[] = await storeCall(() =>
      this.dataSource.query(`SELECT * FROM migrations WHERE state = 'running' ORDER BY started_at, migration_id`),
    );
    return rows.map(recordOf);
  }
}

interface MigrationRow {
  migration_id: string;
  tenant_id: string | null;
  fd_id: string;
  source_host_id: string;
  target_host_id: string;
  state: MigrationState;
  target_fd_id: string | null;
  reason: string | null;
  started_at: Date;
  ended_at: Date | null;
}

function recordOf(row: MigrationRow): OwnedMigration {
  return {
    migrationId: row.migration_id,
    fdId: row.fd_id,
    sourceHostId: row.source_host_id,
    targetHostId: row.target_host_id,
    state: row.state,
    ...(row.target_fd_id !== null ? { targetFdId: row.target_fd_id } : {}),
    ...(row.reason !== null ? { reason: row.reason } : {}),
    startedAt: new Date(row.started_at).toISOString(),
    ...(row.ended_at !== null ? { endedAt: new Date(row.ended_at).toISOString() } : {}),
    ...(row.tenant_id !== null ? { tenantId: row.tenant_id } : {}),
  };
}
