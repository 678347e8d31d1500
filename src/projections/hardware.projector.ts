import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnModuleDestroy } from '@nestjs/common';
import { setImmediate } from 'node:timers/promises';
import { eventOf, type EventEnvelope } from '../model/envelope';
import { HostHardware } from '../hardware';
import { EVENT_TRANSPORT, type EventTransport } from '../messaging/transport';
import { pasidsInUse } from '../observability/metrics';
import { EventStore } from '../store/event-store';
import { HardwareProjectionStore, type HardwareCheckpoint, type HardwareProjectionRow } from '../store/hardware-projection-store';
import { ProjectionWaiters } from './projection-waiters';

/**
 * A host's whole hardware (view with its canonical hash, and snapshot) is stored at most every
 * this many events while deliveries keep coming: its cost grows with the host's state, so per
 * batch only the checkpoint is stored, and a restart replays the events after the snapshot.
 */
export const PROJECTION_SNAPSHOT_EVERY = 1000;
/** Without a save for this long the projector counts as idle and snapshots every host behind its checkpoint. */
const IDLE_SNAPSHOT_MS = 1000;
const YIELD_EVERY_HOSTS = 8;

/**
 * Applies delivered events to each host's emulated hardware and stores the checkpoint of every
 * host a batch touched (one small transaction per batch); the whole hardware is snapshotted
 * every PROJECTION_SNAPSHOT_EVERY events, when the host is first stored, when idle and at stop.
 * Deliveries are at least once: versions already applied are dropped, and a gap is filled from
 * the store before going on. At start it catches up every host from the store, so events
 * published while it was down are not lost. All work runs one task at a time, in order.
 */
@Injectable()
export class HardwareProjector implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger(HardwareProjector.name);
  private readonly hosts = new Map<string, HostHardware>();
  /** Checkpoint stored per host: the in-memory hardware may be ahead after a failed save. */
  private readonly stored = new Map<string, number>();
  /** Version of each host's stored snapshot (0: none). */
  private readonly snapshotted = new Map<string, number>();
  /** Hosts applied past their stored checkpoint. */
  private readonly dirty = new Set<string>();
  /** Hosts whose stream the hardware refused: projecting them stops (verify shows why). */
  private readonly faulted = new Set<string>();
  private readonly waiters = new ProjectionWaiters();
  private work: Promise<unknown> = Promise.resolve();
  private stopped = false;
  private idleTimer?: NodeJS.Timeout;

  constructor(
    @Inject(EVENT_TRANSPORT) private readonly transport: EventTransport,
    private readonly events: EventStore,
    private readonly projection: HardwareProjectionStore,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    await this.transport.subscribe((events) => this.serially(() => this.project(events)));
    this.serially(() => this.catchUp()).catch((e: unknown) => this.logger.warn(`catch-up failed, relying on deliveries: ${message(e)}`));
  }

  async onModuleDestroy(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.idleTimer);
    this.waiters.rejectAll(new Error('the projector stopped'));
    await this.work.catch(() => undefined);
    // Spares the next start the replay of every event since the last periodic snapshot.
    await this.snapshotBehind().catch((e: unknown) => this.logger.warn(`final snapshot failed, the next start replays more: ${message(e)}`));
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
    for (const e of envelopes) {
      const hostEvents = byHost.get(e.hostId);
      if (hostEvents) hostEvents.push(e);
      else byHost.set(e.hostId, [e]);
    }
    for (const [hostId, hostEvents] of byHost) {
      const hw = await this.hardwareOf(hostId);
      for (const envelope of hostEvents) {
        if (envelope.version <= hw.version) continue;
        if (envelope.version > hw.version + 1) await this.applyFromStore(hostId, hw, envelope.version - 1);
        if (!this.apply(hostId, hw, envelope)) break;
      }
    }
    // Acknowledged only once stored: a redelivery after a crash finds the checkpoint.
    await this.saveDirty();
    this.snapshotWhenIdle();
  }

  private snapshotWhenIdle(): void {
    clearTimeout(this.idleTimer);
    this.idleTimer = setTimeout(() => {
      this.serially(() => this.snapshotBehind()).catch((e: unknown) => this.logger.warn(`idle snapshot failed: ${message(e)}`));
    }, IDLE_SNAPSHOT_MS);
    this.idleTimer.unref();
  }

  private async catchUp(): Promise<void> {
    for (const { hostId, head } of await this.projection.behind()) {
      if (this.stopped) return;
      const hw = await this.hardwareOf(hostId);
      await this.applyFromStore(hostId, hw, head);
      await this.saveDirty();
    }
    await this.snapshotBehind();
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
      this.dirty.add(hostId);
      return true;
    } catch (e) {
      this.faulted.add(hostId);
      this.logger.error(`host ${hostId}: the hardware refused event version ${envelope.version}; projection of this host stopped: ${message(e)}`);
      return false;
    }
  }

  /**
   * The host's hardware: in memory, else from its stored snapshot, else empty. A snapshot may
   * trail the checkpoint: the next delivery's gap is filled from the store as any other gap.
   */
  private async hardwareOf(hostId: string): Promise<HostHardware> {
    const known = this.hosts.get(hostId);
    if (known) return known;
    const [row, checkpoint] = await Promise.all([this.projection.get(hostId), this.projection.checkpoint(hostId)]);
    const hw = row ? HostHardware.fromSnapshot(row.snapshot) : HostHardware.empty();
    this.hosts.set(hostId, hw);
    this.stored.set(hostId, checkpoint);
    this.snapshotted.set(hostId, hw.version);
    this.waiters.reached(hostId, checkpoint);
    return hw;
  }

  /** Stores the checkpoint of every host applied past it, with a snapshot where one is due. */
  private async saveDirty(): Promise<void> {
    const due = (hostId: string, hw: HostHardware) => {
      const snapshotted = this.snapshotted.get(hostId) ?? 0;
      return snapshotted === 0 || hw.version - snapshotted >= PROJECTION_SNAPSHOT_EVERY;
    };
    await this.save([...this.dirty].filter((hostId) => this.hostAt(hostId) > (this.stored.get(hostId) ?? 0)), due);
    this.dirty.clear();
  }

  /**
   * Snapshots every host whose stored snapshot trails its hardware (idle, catch-up, stop). Hosts
   * whose hardware trails their checkpoint (loaded, not yet caught up) wait: their checkpoint
   * must not go back.
   */
  private async snapshotBehind(): Promise<void> {
    const behind = [...this.hosts.keys()].filter(
      (hostId) => this.hostAt(hostId) > (this.snapshotted.get(hostId) ?? 0) && this.hostAt(hostId) >= (this.stored.get(hostId) ?? 0),
    );
    await this.save(behind, () => true);
  }

  private async save(hostIds: string[], snapshotDue: (hostId: string, hw: HostHardware) => boolean): Promise<void> {
    const checkpoints: HardwareCheckpoint[] = [];
    const snapshots: HardwareProjectionRow[] = [];
    for (const hostId of hostIds) {
      const hw = this.hosts.get(hostId)!;
      if (!snapshotDue(hostId, hw)) {
        checkpoints.push({ hostId, version: hw.version });
        continue;
      }
      const view = hw.view();
      checkpoints.push({ hostId, version: hw.version, hash: view.hash });
      snapshots.push({ hostId, version: hw.version, hash: view.hash, pasidsInUse: hw.pasidsInUse(), view, snapshot: hw.toSnapshot() });
      // Requests get the event loop between snapshots: many at once must not stall them all.
      // (Nothing else touches the hardware meanwhile: every projector task runs serially.)
      if (snapshots.length % YIELD_EVERY_HOSTS === 0) await setImmediate();
    }
    await this.projection.save(checkpoints, snapshots);
    for (const row of snapshots) this.snapshotted.set(row.hostId, row.version);
    for (const { hostId, version } of checkpoints) {
      if (version <= (this.stored.get(hostId) ?? 0)) continue;
      this.stored.set(hostId, version);
      pasidsInUse.set({ host: hostId }, this.hosts.get(hostId)!.pasidsInUse());
      this.waiters.reached(hostId, version);
    }
  }

  private hostAt(hostId: string): number {
    return this.hosts.get(hostId)?.version ?? 0;
  }
}

function message(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
