import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnModuleDestroy } from '@nestjs/common';
import { setImmediate, setTimeout as sleep } from 'node:timers/promises';
import { eventOf, type EventEnvelope } from '../domain/envelope';
import { HostHardware } from '../hardware';
import { EVENT_TRANSPORT, type EventTransport } from '../messaging/transport';
import { pasidsInUse, projectionLag } from '../observability/metrics';
import { EventStore } from '../store/event-store';
import { HardwareProjectionStore, type HardwareProjectionRow } from '../store/hardware-projection-store';
import { ProjectionWaiters } from './projection-waiters';

/** How often the projection lag gauge is refreshed from the store. */
const LAG_REFRESH_MS = 5000;
/**
 * At most one save per interval: each save writes every touched host's whole view and
 * snapshot, so under load one save serves many deliveries; when idle a delivery saves at once.
 */
const SAVE_INTERVAL_MS = 250;
const YIELD_EVERY_HOSTS = 8;

/**
 * Applies delivered events to each host's emulated hardware and stores the result (view,
 * snapshot and checkpoint in one transaction). Deliveries are at least once: versions already
 * applied are dropped, and a gap is filled from the store before going on. At start it
 * catches up every host from the store, so events published while it was down are not lost.
 * All work runs one task at a time, in order.
 */
@Injectable()
export class HardwareProjector implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger(HardwareProjector.name);
  private readonly hosts = new Map<string, HostHardware>();
  /** Version stored per host: the in-memory hardware may be ahead after a failed save. */
  private readonly stored = new Map<string, number>();
  /** Hosts whose stream the hardware refused: projecting them stops (verify shows why). */
  private readonly faulted = new Set<string>();
  private readonly waiters = new ProjectionWaiters();
  private work: Promise<unknown> = Promise.resolve();
  private nextSave?: Promise<void>;
  private lastSaveAt = 0;
  private stopped = false;
  private lagTimer?: NodeJS.Timeout;

  constructor(
    @Inject(EVENT_TRANSPORT) private readonly transport: EventTransport,
    private readonly events: EventStore,
    private readonly projection: HardwareProjectionStore,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    await this.transport.subscribe((events) => this.serially(() => this.project(events)));
    this.serially(() => this.catchUp()).catch((e: unknown) => this.logger.warn(`catch-up failed, relying on deliveries: ${message(e)}`));
    this.lagTimer = setInterval(() => void this.refreshLag(), LAG_REFRESH_MS);
    this.lagTimer.unref();
  }

  async onModuleDestroy(): Promise<void> {
    this.stopped = true;
    clearInterval(this.lagTimer);
    this.waiters.rejectAll(new Error('the projector stopped'));
    await this.work.catch(() => undefined);
  }

  /** Resolves once this projector has stored `hostId` at `version` or later. */
  waitFor(hostId: string, version: number, timeoutMs = 30_000): Promise<void> {
    if ((this.stored.get(hostId) ?? 0) >= version) return Promise.resolve();
    return this.waiters.add(hostId, version, timeoutMs);
  }

  /** Catches every host up with the store (start; tests). */
  catchUpNow(): Promise<void> {
    return this.serially(() => this.catchUp());
  }

  private serially<T>(task: () => Promise<T>): Promise<T> {
    const run = this.work.then(() => (this.stopped ? Promise.reject(new Error('the projector stopped')) : task()));
    this.work = run.catch(() => undefined);
    return run;
  }

  private async project(envelopes: EventEnvelope[]): Promise<void> {
    const byHost = new Map<string, EventEnvelope[]>();
    for (const e of envelopes) byHost.set(e.hostId, [...(byHost.get(e.hostId) ?? []), e]);
    for (const [hostId, hostEvents] of byHost) {
      const hw = await this.hardwareOf(hostId);
      for (const envelope of hostEvents) {
        if (envelope.version <= hw.version) continue;
        if (envelope.version > hw.version + 1) await this.applyFromStore(hostId, hw, envelope.version - 1);
        if (!this.apply(hostId, hw, envelope)) break;
      }
    }
    // Acknowledged only once stored: a redelivery after a crash finds the checkpoint.
    await this.saveSoon();
  }

  private saveSoon(): Promise<void> {
    this.nextSave ??= sleep(Math.max(0, this.lastSaveAt + SAVE_INTERVAL_MS - Date.now())).then(() => {
      this.nextSave = undefined;
      this.lastSaveAt = Date.now();
      return this.saveDirty();
    });
    return this.nextSave;
  }

  private async catchUp(): Promise<void> {
    for (const { hostId, head } of await this.projection.behind()) {
      if (this.stopped) return;
      const hw = await this.hardwareOf(hostId);
      await this.applyFromStore(hostId, hw, head);
      await this.saveDirty();
    }
    await this.refreshLag();
  }

  private async applyFromStore(hostId: string, hw: HostHardware, toVersion: number): Promise<void> {
    if (this.faulted.has(hostId)) return;
    for await (const batch of this.events.stream(hostId, { afterVersion: hw.version, toVersion })) {
      for (const envelope of batch) if (!this.apply(hostId, hw, envelope)) return;
    }
  }

  /** False when the host is (now) faulted: its later events are not applied. */
  private apply(hostId: string, hw: HostHardware, envelope: EventEnvelope): boolean {
    if (this.faulted.has(hostId)) return false;
    try {
      hw.apply(eventOf(envelope));
      return true;
    } catch (e) {
      this.faulted.add(hostId);
      this.logger.error(`host ${hostId}: the hardware refused event version ${envelope.version}; projection of this host stopped: ${message(e)}`);
      return false;
    }
  }

  /** The host's hardware: in memory, else from its stored projection, else empty. */
  private async hardwareOf(hostId: string): Promise<HostHardware> {
    const known = this.hosts.get(hostId);
    if (known) return known;
    const row = await this.projection.get(hostId);
    const hw = row ? HostHardware.fromSnapshot(row.snapshot) : HostHardware.empty();
    this.hosts.set(hostId, hw);
    this.stored.set(hostId, hw.version);
    return hw;
  }

  private async saveDirty(): Promise<void> {
    const rows: HardwareProjectionRow[] = [];
    for (const [hostId, hw] of this.hosts) {
      if (hw.version > (this.stored.get(hostId) ?? 0)) {
        const view = hw.view();
        rows.push({ hostId, version: hw.version, hash: view.hash, pasidsInUse: hw.pasidsInUse(), view, snapshot: hw.toSnapshot() });
        // Requests get the event loop between hosts: a save of many hosts must not stall them all at once.
        // (Nothing else touches the hardware meanwhile: every projector task runs serially.)
        if (rows.length % YIELD_EVERY_HOSTS === 0) await setImmediate();
      }
    }
    await this.projection.save(rows);
    for (const row of rows) {
      this.stored.set(row.hostId, row.version);
      pasidsInUse.set({ host: row.hostId }, row.pasidsInUse);
      this.waiters.reached(row.hostId, row.version);
    }
  }

  private async refreshLag(): Promise<void> {
    try {
      projectionLag.set(await this.projection.lag());
    } catch {
      // The gauge keeps its last value while the store is unreachable; readiness reports the outage.
    }
  }
}

function message(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
