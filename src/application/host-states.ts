import { Inject, Injectable, Logger, type BeforeApplicationShutdown } from '@nestjs/common';
import { LRUCache } from 'lru-cache';
import { APP_CONFIG, hostCacheBytes, type AppConfig } from '../config';
import { deserializeHostState, initialHostState, serializeHostState, type HostState } from '../composition/host-state';
import { evolveAll } from '../domain';
import { EventStore } from '../store/event-store';
import { STREAM_BATCH } from '../store/event-reads';
import { SnapshotStore, type Snapshot } from '../store/snapshot-store';
import { KeyedMutex } from './keyed-mutex';

export const DEFAULT_SNAPSHOT_EVERY = 1000;
/** Snapshots of evicted hosts being written or waiting for their host's lock; an eviction beyond them writes none. */
const EVICTION_SNAPSHOTS_IN_FLIGHT = 2;

/** Heap bytes of the fd model beside the hardware (measured as in hardware/footprint.ts). */
const FD_MODEL_BYTES = 2048;
const IOASID_DETAILS_BYTES = 300;
const LOCAL_PASID_BYTES = 60;

/** The approximate heap of a decider state: its hardware plus the fd model. */
export function hostStateBytes(state: HostState): number {
  let bytes = state.hw.approximateBytes();
  for (const fd of state.fds.values()) bytes += FD_MODEL_BYTES + fd.ioasids.details.size * IOASID_DETAILS_BYTES + fd.ioasidsByPasid.size * LOCAL_PASID_BYTES;
  return bytes;
}

/**
 * The decider state of hosts, cached in this process within HOST_CACHE_MB: the least recently
 * used host is evicted and, when next needed, loaded again from its snapshot and the events
 * after it. A host's state is only touched under its lock (`exclusive`): commands of one host
 * are decided one at a time, and a reader never sees events that a command evolved but has not
 * committed yet. Evicting at any moment is safe: a command in flight keeps its own reference
 * and puts the state back when it commits.
 *
 * A host evicted with at least half of SNAPSHOT_EVERY events after its latest snapshot is
 * snapshotted in the background, under its lock, so that its next load replays none of them
 * (half, because below that a snapshot costs more to write than one reload saves: BENCHMARKS.md,
 * session 6, "Cold load"). At most
 * EVICTION_SNAPSHOTS_IN_FLIGHT at a time: an eviction beyond them loses only the optimization.
 */
@Injectable()
export class HostStates implements BeforeApplicationShutdown {
  private readonly logger = new Logger(HostStates.name);
  private readonly cache: LRUCache<string, HostState>;
  private readonly locks = new KeyedMutex();
  private readonly snapshotWrites = new Set<Promise<void>>();
  private readonly snapshotEvery: number;
  /** The version of the latest snapshot written or read for a state: how far its next load would replay. */
  private readonly snapshotVersions = new WeakMap<HostState, number>();
  /** Evicted states waiting for their host's lock to be snapshotted; discard() takes a state out (it may hold uncommitted events). */
  private readonly evicted = new Map<string, HostState>();

  constructor(
    private readonly events: EventStore,
    private readonly snapshots: SnapshotStore,
    @Inject(APP_CONFIG) config: AppConfig,
  ) {
    this.snapshotEvery = config.snapshotEvery ?? DEFAULT_SNAPSHOT_EVERY;
    this.cache = new LRUCache({
      maxSize: hostCacheBytes(config, 'decider states'),
      sizeCalculation: hostStateBytes,
      dispose: (state, hostId, reason) => {
        if (reason === 'evict') this.evictedFarFromSnapshot(hostId, state);
      },
    });
  }

  /** Hosts held in memory and their estimated bytes (metrics, tests). */
  get cacheUsage(): { hosts: number; bytes: number } {
    return { hosts: this.cache.size, bytes: this.cache.calculatedSize };
  }

  /** Runs `task` alone for this host. Every other method below expects to be called from inside it. */
  exclusive<T>(hostId: string, task: () => Promise<T>): Promise<T> {
    return this.locks.run(hostId, task);
  }

  /**
   * The cached state, loaded on first use. Commands use it without asking the store whether
   * another replica moved on: the append's expected version catches that, and they reload.
   */
  async cached(hostId: string): Promise<HostState> {
    return this.cache.get(hostId) ?? this.load(hostId);
  }

  /** The state at the store's committed head: what reads answer from. */
  async current(hostId: string): Promise<HostState> {
    const cached = this.cache.get(hostId);
    if (!cached) return this.load(hostId);
    try {
      for await (const batch of this.events.streamEvents(hostId, { afterVersion: cached.version })) evolveAll(cached, batch);
    } catch (e) {
      this.discard(hostId);
      throw e;
    }
    // Measured again: another replica's events may have grown it.
    this.cache.set(hostId, cached);
    return cached;
  }

  /** Forgets the state: it may hold events evolved for an append that did not commit. */
  discard(hostId: string): void {
    this.cache.delete(hostId);
    this.evicted.delete(hostId);
  }

  /** Records that `state` is now committed; every `snapshotEvery` events a snapshot is written in the background. */
  committed(hostId: string, state: HostState, versionBefore: number): void {
    this.cache.set(hostId, state);
    if (Math.floor(versionBefore / this.snapshotEvery) === Math.floor(state.version / this.snapshotEvery)) return;
    void this.writeSnapshot(hostId, state);
  }

  /** Resolves once the snapshots being written are stored (shutdown, before the database closes; tests). */
  async snapshotsWritten(): Promise<void> {
    await Promise.all(this.snapshotWrites);
  }

  async beforeApplicationShutdown(): Promise<void> {
    await this.snapshotsWritten();
  }

  /**
   * Serializes `state` now, under the host's lock (the next command mutates it in place), and
   * stores it in the background; a failed write is only an optimization lost.
   */
  private writeSnapshot(hostId: string, state: HostState): Promise<void> {
    const json = JSON.stringify(serializeHostState(state));
    this.snapshotVersions.set(state, state.version);
    return this.track(hostId, state.version, this.snapshots.save(hostId, state.version, json));
  }

  /** Keeps `write` for snapshotsWritten; it never rejects. */
  private track(hostId: string, version: number, write: Promise<void>): Promise<void> {
    const settled = write.catch((e: unknown) => {
      this.logger.warn(`snapshot of host ${hostId} at version ${version} not written: ${e instanceof Error ? e.message : String(e)}`);
    });
    this.snapshotWrites.add(settled);
    void settled.finally(() => this.snapshotWrites.delete(settled));
    return settled;
  }

  /**
   * Called by the cache as it evicts `state`, possibly while a command of that host holds it
   * with events not committed yet: the snapshot waits for the host's lock, and is written only
   * if by then the state was neither discarded (its command failed) nor cached again (it is
   * snapshotted when next evicted, or a fresh load stands in for it).
   */
  private evictedFarFromSnapshot(hostId: string, state: HostState): void {
    const behind = state.version - (this.snapshotVersions.get(state) ?? 0);
    if (behind < this.snapshotEvery / 2 || this.evicted.size >= EVICTION_SNAPSHOTS_IN_FLIGHT || this.evicted.has(hostId)) return;
    this.evicted.set(hostId, state);
    const written = this.exclusive(hostId, async () => {
      if (this.evicted.get(hostId) !== state) return;
      try {
        if (!this.cache.has(hostId)) await this.writeSnapshot(hostId, state);
      } finally {
        this.evicted.delete(hostId);
      }
    });
    void this.track(hostId, state.version, written);
  }

  private async load(hostId: string): Promise<HostState> {
    const { snapshot, events } = await this.snapshots.latestWithEvents(hostId, STREAM_BATCH);
    const state = this.fromSnapshot(hostId, snapshot);
    // The events read follow the snapshot: when it could not be read, the whole stream is read instead.
    const fromSnapshot = state.version === (snapshot?.version ?? 0);
    if (fromSnapshot) evolveAll(state, events);
    if (!fromSnapshot || events.length === STREAM_BATCH) {
      for await (const batch of this.events.streamEvents(hostId, { afterVersion: state.version })) evolveAll(state, batch);
    }
    // A host that does not exist (yet) is not cached: unknown ids must not fill the cache.
    if (state.version > 0) this.cache.set(hostId, state);
    return state;
  }

  private fromSnapshot(hostId: string, snapshot: Snapshot | undefined): HostState {
    if (!snapshot) return initialHostState();
    try {
      const state = deserializeHostState(snapshot.state);
      this.snapshotVersions.set(state, snapshot.version);
      return state;
    } catch (e) {
      // A snapshot this release cannot read is only an optimization lost: replay the whole stream.
      this.logger.warn(`snapshot of host ${hostId} at version ${snapshot.version} ignored: ${e instanceof Error ? e.message : String(e)}`);
      return initialHostState();
    }
  }
}
