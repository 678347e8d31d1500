import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnModuleDestroy } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { APP_CONFIG, type AppConfig } from '../config';
import { SchemaStatus } from './schema-status';
import { storeCall } from './store-errors';

/** Rows deleted per statement: each is a short transaction over a few index pages. */
export const EXPIRED_BATCH = 1000;
/** How often a sweep starts; at most one runs per process at a time. */
const SWEEP_EVERY_MS = 10 * 60_000;

/**
 * Expired idempotency records (API.md: a key answers for 24 hours) are deleted in the
 * background, never on a request: in batches of EXPIRED_BATCH, oldest first through the
 * index on created_at, so neither a long lock nor a scan of the whole table. Records are
 * already ignored once expired (the lookup and the take-over check their age): this only
 * gives the space back. Every API process sweeps; SKIP LOCKED keeps them from waiting on
 * each other, and a row a request just took over (its created_at renewed) is not deleted.
 */
@Injectable()
export class IdempotencyHousekeeping implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger(IdempotencyHousekeeping.name);
  private timer?: NodeJS.Timeout;
  private sweeping?: Promise<number>;
  private stopped = false;

  constructor(
    private readonly dataSource: DataSource,
    private readonly schema: SchemaStatus,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  onApplicationBootstrap(): void {
    // Records are written by the processes that take commands.
    if (this.config.role === 'projector') return;
    this.timer = setInterval(() => void this.sweep().catch((e: unknown) => this.logger.warn(`idempotency sweep failed: ${e instanceof Error ? e.message : String(e)}`)), SWEEP_EVERY_MS);
    this.timer.unref();
  }

  async onModuleDestroy(): Promise<void> {
    this.stopped = true;
    clearInterval(this.timer);
    await this.sweeping?.catch(() => undefined);
  }

  /** Deletes every record expired now, batch by batch; returns how many. One sweep at a time. */
  sweep(batch = EXPIRED_BATCH): Promise<number> {
    this.sweeping ??= this.deleteExpired(batch).finally(() => (this.sweeping = undefined));
    return this.sweeping;
  }

  private async deleteExpired(batch: number): Promise<number> {
    if (!(await this.schema.isCurrent())) return 0;
    let deleted = 0;
    for (;;) {
      const n = await this.deleteBatch(batch);
      deleted += n;
      if (n < batch || this.stopped) return deleted;
    }
  }

  /** One batch, one statement (its own short transaction); returns how many rows went. */
  deleteBatch(batch: number): Promise<number> {
    return storeCall(async () => {
      const rows: Array<{ n: number }> = await this.dataSource.query(
        `WITH expired AS (
           SELECT scope, key FROM idempotency
            WHERE created_at < now() - interval '24 hours'
            ORDER BY created_at
            LIMIT $1
            FOR UPDATE SKIP LOCKED
         ), gone AS (
           DELETE FROM idempotency i USING expired e
            WHERE i.scope = e.scope AND i.key = e.key AND i.created_at < now() - interval '24 hours'
           RETURNING 1
         )
         SELECT count(*)::int AS n FROM gone`,
        [batch],
      );
      return rows[0].n;
    });
  }
}
