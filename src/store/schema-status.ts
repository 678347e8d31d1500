import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { MIGRATIONS } from '../../migrations';
import { MIGRATIONS_TABLE } from './database';
import { storeCall } from './store-errors';

/** The name TypeORM records for each migration of this build. */
const KNOWN = MIGRATIONS.map((m) => new m().name ?? m.name);

/**
 * Whether every migration this build knows is applied. A process started with
 * RUN_MIGRATIONS=false on a schema that is behind stays up (not ready) and asks again on each
 * readiness check; once current, the schema never goes back, so the answer is kept and the
 * question costs nothing after. Migrations a newer release added are not this build's to wait for.
 */
@Injectable()
export class SchemaStatus {
  private current = false;

  constructor(private readonly dataSource: DataSource) {}

  /** The names of this build's migrations not applied yet (none once the schema is current). */
  async pending(): Promise<string[]> {
    if (this.current) return [];
    const applied = await storeCall(async () => {
      const [table]: Array<{ present: boolean }> = await this.dataSource.query('SELECT to_regclass($1) IS NOT NULL AS present', [MIGRATIONS_TABLE]);
      if (!table.present) return new Set<string>();
      const rows: Array<{ name: string }> = await this.dataSource.query(`SELECT name FROM ${MIGRATIONS_TABLE}`);
      return new Set(rows.map((r) => r.name));
    });
    const pending = KNOWN.filter((name) => !applied.has(name));
    this.current = pending.length === 0;
    return pending;
  }

  async isCurrent(): Promise<boolean> {
    return (await this.pending()).length === 0;
  }
}
