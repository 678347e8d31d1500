import { Inject, Injectable, type OnModuleDestroy } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { APP_CONFIG, type AppConfig, type Role } from '../config';
import { EVENT_TRANSPORT, type EventTransport, type TransportHealth } from '../messaging/transport';
import { outboxLag, sampleAtScrape, type ScrapeSample } from '../observability/metrics';
import { isShuttingDown } from '../observability/shutdown';
import { SchemaStatus } from '../store/schema-status';

/**
 * Events a projector may trail its partitions by and still be ready: under steady load it is
 * always a few batches behind, and readiness must not flap with every batch.
 */
export const MAX_READY_PROJECTION_LAG = 1000;

/**
 * The outbox is counted up to this many rows: enough to see a backlog, and a probe never
 * scans a backlog that a long Kafka outage grew (the figure then reads "at least this").
 */
export const OUTBOX_COUNT_LIMIT = 10_000;

export interface Readiness {
  ready: boolean;
  role: Role;
  /** The database answered. */
  database: boolean;
  /** Every migration of this build is applied ('unknown' when the database did not answer). */
  migrations: 'current' | 'pending' | 'unknown';
  /** The migrations still to apply, while `migrations` is 'pending'. */
  pendingMigrations?: string[];
  /** Committed events not yet published from the outbox, counted up to OUTBOX_COUNT_LIMIT (roles that publish: api, all). */
  outboxPending?: number;
  /** Events this process's projector has yet to apply (roles that project: projector, all): Kafka consumer lag, or the in-process queue. */
  projectionLag?: number;
  /** The transport's connectivity (Kafka), when it reports one. */
  transport?: TransportHealth;
  /** Set once a shutdown signal arrived: never ready again. */
  shuttingDown?: true;
}

/** What readiness is decided from. */
export interface ReadinessFacts {
  database: boolean;
  schemaCurrent: boolean;
  shuttingDown: boolean;
  /** Undefined: the transport reports no connectivity (in-process), so it is always fine. */
  transportOk?: boolean;
  projectionLag: number;
}

/**
 * Ready means: route traffic here. An API process (and an all-in-one one, which takes the same
 * commands) is ready when it can accept commands: the database answers with the current schema.
 * Kafka is not needed for that (the outbox keeps the events until it is back), so a Kafka outage
 * is reported but leaves it in service. A projector takes no traffic; it is ready when its work
 * flows: database, schema, Kafka, and a bounded lag (what a rolling update waits for).
 */
export function isReady(role: Role, f: ReadinessFacts): boolean {
  const acceptsCommands = f.database && f.schemaCurrent && !f.shuttingDown;
  switch (role) {
    case 'api':
    case 'all':
      return acceptsCommands;
    case 'projector':
      return acceptsCommands && f.transportOk !== false && f.projectionLag <= MAX_READY_PROJECTION_LAG;
    default: {
      const _: never = role;
      return _;
    }
  }
}

/**
 * GET /readyz and gRPC health: the store side (one cheap query, two until the schema is
 * current), the transport's health and lag (in memory). Nothing here costs time in proportion
 * to the number of hosts. The transport's health and the lag also feed /metrics at each scrape.
 */
@Injectable()
export class ReadinessService implements OnModuleDestroy {
  private readonly sample = (): ScrapeSample => ({
    transportUp: this.eventTransport.health ? Number(this.eventTransport.health().ok) : undefined,
    projectionLag: this.projects() ? (this.eventTransport.consumerLag?.() ?? 0) : undefined,
  });

  constructor(
    private readonly dataSource: DataSource,
    private readonly schema: SchemaStatus,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(EVENT_TRANSPORT) private readonly eventTransport: EventTransport,
  ) {
    sampleAtScrape(this.sample);
  }

  onModuleDestroy(): void {
    sampleAtScrape(undefined, this.sample);
  }

  async check(): Promise<Readiness> {
    const { role } = this.config;
    const shuttingDown = isShuttingDown();
    const transport = this.eventTransport.health?.();
    const projectionLag = this.projects() ? (this.eventTransport.consumerLag?.() ?? 0) : undefined;
    const store = await this.checkStore();
    const ready = isReady(role, {
      database: store.database,
      schemaCurrent: store.migrations === 'current',
      shuttingDown,
      transportOk: transport?.ok,
      projectionLag: projectionLag ?? 0,
    });
    return {
      ready,
      role,
      ...store,
      ...(projectionLag !== undefined ? { projectionLag } : {}),
      ...(transport ? { transport } : {}),
      ...(shuttingDown ? { shuttingDown: true as const } : {}),
    };
  }

  private projects(): boolean {
    return this.config.role !== 'api';
  }

  private async checkStore(): Promise<Pick<Readiness, 'database' | 'migrations' | 'pendingMigrations' | 'outboxPending'>> {
    try {
      const pendingMigrations = await this.schema.pending();
      if (pendingMigrations.length) return { database: true, migrations: 'pending', pendingMigrations };
      if (this.config.role === 'projector') {
        await this.dataSource.query('SELECT 1');
        return { database: true, migrations: 'current' };
      }
      const [{ n }]: Array<{ n: number }> = await this.dataSource.query(
        'SELECT count(*)::int AS n FROM (SELECT 1 FROM outbox LIMIT $1) AS pending',
        [OUTBOX_COUNT_LIMIT],
      );
      outboxLag.set(n);
      return { database: true, migrations: 'current', outboxPending: n };
    } catch {
      return { database: false, migrations: 'unknown' };
    }
  }
}
