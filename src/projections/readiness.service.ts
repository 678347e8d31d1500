import { Inject, Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { APP_CONFIG, type AppConfig } from '../config';
import { EVENT_TRANSPORT, type EventTransport, type TransportHealth } from '../messaging/transport';
import { outboxLag, projectionLag } from '../observability/metrics';
import { HardwareProjectionStore } from '../store/hardware-projection-store';

/**
 * Events the projection may trail by and still be "caught up": under steady load it is always
 * a few commits behind, and readiness must not flap with every batch.
 */
export const MAX_READY_PROJECTION_LAG = 1000;

export interface Readiness {
  /** The database answers and, where this process projects, the projection has caught up. */
  ready: boolean;
  /** The database answered. */
  database: boolean;
  /** Committed events not yet in the hardware projection; -1 when the database did not answer. */
  projectionLag: number;
  /** Committed events not yet published from the outbox; -1 when the database did not answer. */
  outboxPending: number;
  /** The transport's connectivity (Kafka), when it reports one; not ok makes the process unready. */
  transport?: TransportHealth;
}

/** What GET /readyz needs to know: the store side, and the transport's own health (Kafka) where it has one. */
@Injectable()
export class ReadinessService {
  constructor(
    private readonly dataSource: DataSource,
    private readonly projection: HardwareProjectionStore,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(EVENT_TRANSPORT) private readonly eventTransport: EventTransport,
  ) {}

  async check(): Promise<Readiness> {
    const transport = this.eventTransport.health?.();
    const report = await this.checkStore();
    return transport ? { ...report, ready: report.ready && transport.ok, transport } : report;
  }

  private async checkStore(): Promise<Readiness> {
    try {
      const [lag, pending] = await Promise.all([
        this.projection.lag(),
        this.dataSource.query('SELECT count(*) AS n FROM outbox') as Promise<Array<{ n: string }>>,
      ]);
      const outboxPending = Number(pending[0].n);
      projectionLag.set(lag);
      outboxLag.set(outboxPending);
      // An API-only process does not project: another process's lag does not make it unready.
      const caughtUp = this.config.role === 'api' || lag <= MAX_READY_PROJECTION_LAG;
      return { ready: caughtUp, database: true, projectionLag: lag, outboxPending };
    } catch {
      return { ready: false, database: false, projectionLag: -1, outboxPending: -1 };
    }
  }
}
