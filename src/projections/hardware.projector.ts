import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnModuleDestroy } from '@nestjs/common';
import { LRUCache } from 'lru-cache';
import { setImmediate } from 'node:timers/promises';
import { APP_CONFIG, hostCacheBytes, type AppConfig } from '../config';
import { eventOf, type EventEnvelope } from '../model/envelope';
import { HostHardware } from '../hardware';
import { EVENT_TRANSPORT, type EventTransport } from '../messaging/transport';
import { pasidsInUse } from '../observability/metrics';
import { EventStore } from '../store/event-store';
import { HardwareProjectionStore, type HardwareCheckpoint, type HardwareProjectionRow, type RestartPoint } from '../store/hardware-projection-store';
import { ProjectionWaiters } from './projection-waiters';
import { projectionRow } from './projected-hardware';

/**
 * A host's whole hardware (view with its canonical hash, and snapshot) is stored at most every
 * this many events while deliveries keep coming: its cost grows with the host's state, so per
 * batch only the checkpoint is stored, and a restart replays the events after the snapshot.
 */
export const PROJECTION_SNAPSHOT_EVERY = 1000;
/** Without a save for this long the projector counts as idle and snapshots every host behind its checkpoint. */
const IDLE_SNAPSHOT_MS = 1000;
/**
 * Idle snapshots go this many hosts at a time, a pause between rounds, so that thousands of
 * hosts touched by a burst of work are not all serialized (and their garbage made) at once while
 * other processes on the machine need the CPU; a delivery ends the idle spell.
 */
const IDLE_SNAPSHOT_HOSTS = 64;
const IDLE_SNAPSHOT_PAUSE_MS = 50;
const YIELD_EVERY_HOSTS = 8;
/** Hosts taken up in one statement at most (a delivery's hosts not held): bounds the statement and the hosts parsed at once. */
const TAKE_UP_HOSTS = 256;
/** Heap bytes of a cached host beside its hardware (the entry, its cache slot and gauge series). */
const ENTRY_BYTES = 512;

/** What the projector holds of one host. */
interface ProjectedHost {
  hw: HostHardware;
  /** Checkpoint stored: the in-memory hardware may be ahead after a failed save. */
  stored: number;
  /** Version of the stored snapshot (0: none). */
  snapshotted: number;
  /** The hardware refused the stream: projecting the host stops (verify shows why). */
  faulted: boolean;
}

/**
 * Applies delivered events to each host's emulated hardware and stores the checkpoint of every
 * host a batch touched (one small transaction per batch); the whole hardware is snapshotted
 * every PROJECTION_SNAPSHOT_EVERY events, when the host is first stored, when idle and at stop.
 * Deliveries are at least once: versions already applied are dropped, and a gap is filled from
 * the store before going on. At start it catches up every host from the store, so events
 * published while it was down are not lost. All work runs one task at a time, in order.
 *
 * Hosts are held within HOST_CACHE_MB: the least recently projected host is evicted (once its
 * checkpoint is stored) and loaded again from its stored snapshot when its next events come.
 * With Kafka, a rebalance that takes partitions away drops their hosts at once.
 */
@Injectable()
export class HardwareProjector implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger(HardwareProjector.name);
  private readonly hosts: LRUCache<string, ProjectedHost>;
  /** Hosts applied past their stored checkpoint (within one task: every task ends saving them). */
  private readonly dirty = new Set<string>();
  /** Dirty hosts the cache evicted before their checkpoint was stored: kept until it is. */
  private readonly evictedDirty = new Map<string, ProjectedHost>();
  private readonly waiters = new ProjectionWaiters();
  private work: Promise<unknown> = Promise.resolve();
  private stopped = false;
  private idleTimer?: NodeJS.Timeout;

  constructor(
    @Inject(EVENT_TRANSPORT) private readonly transport: EventTransport,
    private readonly events: EventStore,
    private readonly projection: HardwareProjectionStore,
    /** Optional for tools and tests that build a projector by hand: then the default bound. */
    @Inject(APP_CONFIG) config: Partial<AppConfig> = {},
  ) {
    this.hosts = new LRUCache<string, ProjectedHost>({
      maxSize: hostCacheBytes(config, 'projected hardware'),
      sizeCalculation: (host) => host.hw.approximateBytes() + ENTRY_BYTES,
      dispose: (host, hostId, reason) => {
        if (reason !== 'delete' && this.dirty.has(hostId)) this.evictedDirty.set(hostId, host);
        pasidsInUse.remove({ host: hostId });
      },
    });
  }

  /** Hosts held in memory and their estimated bytes (tests, benchmarks). */
  get cacheUsage(): { hosts: number; bytes: number } {
    return { hosts: this.hosts.size, bytes: this.hosts.calculatedSize };
  }

  async onApplicationBootstrap(): Promise<void> {
    await this.transport.subscribe((events) => this.serially(() => this.project(events)));
    this.transport.onPartitionsRevoked?.((owned) => {
      this.serially(async () => this.dropUnowned(owned)).catch((e: unknown) => this.logger.warn(`dropping revoked hosts failed: ${message(e)}`));
    });
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
    const held = this.hosts.peek(hostId);
    if (held && held.stored >= version) return Promise.resolve();
    const waiting = this.waiters.add(hostId, version, timeoutMs);
    // A host not held here may have been stored before it was evicted (or by another projector).
    if (!held) {
      this.projection.checkpoint(hostId).then(
        (checkpoint) => this.waiters.reached(hostId, checkpoint),
        () => undefined,
      );
    }
    return waiting;
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
    await this.takeUp([...byHost.keys()]);
    for (const [hostId, hostEvents] of byHost) {
      const host = await this.hostOf(hostId);
      for (const envelope of hostEvents) {
        if (envelope.version <= host.hw.version) continue;
        if (envelope.version > host.hw.version + 1) await this.applyFromStore(hostId, host, envelope.version - 1);
        if (!this.apply(hostId, host, envelope)) break;
      }
    }
    // Acknowledged only once stored: a redelivery after a crash finds the checkpoint.
    await this.saveDirty();
    this.snapshotWhenIdle();
  }

  private snapshotWhenIdle(delayMs = IDLE_SNAPSHOT_MS): void {
    clearTimeout(this.idleTimer);
    this.idleTimer = setTimeout(() => {
      this.serially(() => this.snapshotBehind(IDLE_SNAPSHOT_HOSTS)).then(
        (left) => {
          if (left > 0 && !this.stopped) this.snapshotWhenIdle(IDLE_SNAPSHOT_PAUSE_MS);
        },
        (e: unknown) => this.logger.warn(`idle snapshot failed: ${message(e)}`),
      );
    }, delayMs);
    this.idleTimer.unref();
  }

  private async catchUp(): Promise<void> {
    for (const { hostId, head } of await this.projection.behind()) {
      if (this.stopped) return;
      await this.applyFromStore(hostId, await this.hostOf(hostId), head);
      await this.saveDirty();
    }
    await this.snapshotBehind();
  }

  private async applyFromStore(hostId: string, host: ProjectedHost, toVersion: number): Promise<void> {
    if (host.faulted) return;
    for await (const batch of this.events.stream(hostId, { afterVersion: host.hw.version, toVersion })) {
      for (const envelope of batch) if (!this.apply(hostId, host, envelope)) return;
    }
  }

  /** False when the host is (now) faulted: its later events are not applied. */
  private apply(hostId: string, host: ProjectedHost, envelope: EventEnvelope): boolean {
    if (host.faulted) return false;
    try {
      host.hw.apply(eventOf(envelope));
      this.dirty.add(hostId);
      return true;
    } catch (e) {
      host.faulted = true;
      this.logger.error(`host ${hostId}: the hardware refused event version ${envelope.version}; projection of this host stopped: ${message(e)}`);
      return false;
    }
  }

  /**
   * The host: in memory, else from its stored snapshot, else empty. A snapshot may trail the
   * checkpoint: the next delivery's gap is filled from the store as any other gap.
   */
  private async hostOf(hostId: string): Promise<ProjectedHost> {
    const known = this.held(hostId);
    if (known) {
      this.hosts.set(hostId, known);
      return known;
    }
    return this.adopt(hostId, (await this.projection.restartPoints([hostId])).get(hostId)!);
  }

  /**
   * Takes up the hosts of a delivery that this projector does not hold, TAKE_UP_HOSTS to a
   * statement: across a fleet nearly every host visit starts with a host not held, and a
   * delivery brings several.
   */
  private async takeUp(hostIds: string[]): Promise<void> {
    const missing = hostIds.filter((hostId) => !this.held(hostId));
    for (let at = 0; at < missing.length; at += TAKE_UP_HOSTS) {
      for (const [hostId, point] of await this.projection.restartPoints(missing.slice(at, at + TAKE_UP_HOSTS))) this.adopt(hostId, point);
    }
  }

  /** The host as this projector holds it: cached, or evicted while dirty and kept until its checkpoint is stored. */
  private held(hostId: string): ProjectedHost | undefined {
    return this.hosts.peek(hostId) ?? this.evictedDirty.get(hostId);
  }

  private adopt(hostId: string, { snapshot, checkpoint }: RestartPoint): ProjectedHost {
    const hw = snapshot ? HostHardware.fromSnapshot(snapshot) : HostHardware.empty();
    const host: ProjectedHost = { hw, stored: checkpoint, snapshotted: hw.version, faulted: false };
    this.hosts.set(hostId, host);
    this.waiters.reached(hostId, checkpoint);
    return host;
  }

  /** After a rebalance: the hosts of partitions now consumed elsewhere are dropped (nothing is dirty between tasks). */
  private dropUnowned(owned: (hostId: string) => boolean): void {
    for (const hostId of [...this.hosts.keys()]) if (!owned(hostId)) this.hosts.delete(hostId);
  }

  /** Stores the checkpoint of every host applied past it, with a snapshot where one is due. */
  private async saveDirty(): Promise<void> {
    const due = (host: ProjectedHost) => host.snapshotted === 0 || host.hw.version - host.snapshotted >= PROJECTION_SNAPSHOT_EVERY;
    const dirty = [...this.dirty].map((hostId) => [hostId, this.held(hostId)!] as const);
    await this.save(
      dirty.filter(([, host]) => host.hw.version > host.stored),
      due,
    );
    this.dirty.clear();
    this.evictedDirty.clear();
    // Measured again now that they grew; may evict the least recently used (none is dirty now).
    for (const [hostId, host] of dirty) if (this.hosts.has(hostId)) this.hosts.set(hostId, host);
  }

  /**
   * Snapshots every host (at most `limit` of them) whose stored snapshot trails its hardware
   * (idle, catch-up, stop); answers how many are still behind. Hosts whose hardware trails their
   * checkpoint (loaded, not yet caught up) wait: their checkpoint must not go back.
   */
  private async snapshotBehind(limit = Infinity): Promise<number> {
    const behind = [...this.hosts.entries()].filter(([, host]) => host.hw.version > host.snapshotted && host.hw.version >= host.stored);
    await this.save(behind.slice(0, limit), () => true);
    // How many are still behind.
    return Math.max(0, behind.length - limit);
  }

  private async save(hosts: ReadonlyArray<readonly [string, ProjectedHost]>, snapshotDue: (host: ProjectedHost) => boolean): Promise<void> {
    const checkpoints: HardwareCheckpoint[] = [];
    const snapshots: HardwareProjectionRow[] = [];
    for (const [hostId, host] of hosts) {
      const hw = host.hw;
      if (!snapshotDue(host)) {
        checkpoints.push({ hostId, version: hw.version });
        continue;
      }
      const row = projectionRow(hostId, hw);
      checkpoints.push({ hostId, version: row.version, hash: row.hash });
      snapshots.push(row);
      // Requests get the event loop between snapshots: many at once must not stall them all.
      // (Nothing else touches the hardware meanwhile: every projector task runs serially.)
      if (snapshots.length % YIELD_EVERY_HOSTS === 0) await setImmediate();
    }
    await this.projection.save(checkpoints, snapshots);
    const byId = new Map(hosts);
    for (const row of snapshots) byId.get(row.hostId)!.snapshotted = row.version;
    for (const { hostId, version } of checkpoints) {
      const host = byId.get(hostId)!;
      if (version <= host.stored) continue;
      host.stored = version;
      // The series of a host exists while it is held here (see the cache's dispose).
      if (this.hosts.has(hostId)) pasidsInUse.set({ host: hostId }, host.hw.pasidsInUse());
      this.waiters.reached(hostId, version);
    }
  }
}

function message(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
