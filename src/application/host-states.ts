import { Inject, Injectable, Logger, type BeforeApplicationShutdown } from '@nestjs/common';
import { LRUCache } from 'lru-cache';
import { APP_CONFIG, hostCacheBytes, type AppConfig } from '../config';
import { deserializeHostState, initialHostState, serializeHostState, type HostState } from '../composition/host-state';
import { evolveAll } from '../domain';
import { EventStore } from '../store/event-store';
import { SnapshotStore } from '../store/snapshot-store';
import { KeyedMutex } from './keyed-mutex';

export const DEFAULT_SNAPSHOT_EVERY = 1000;

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
 */
@Injectable()
export class HostStates implements BeforeApplicationShutdown {
  private readonly logger = new Logger(HostStates.name);
  private readonly cache: LRUCache<string, HostState>;
  private readonly locks = new KeyedMutex();
  private readonly snapshotWrites = new Set<Promise<void>>();
  private readonly snapshotEvery: number;

  constructor(
    private readonly events: EventStore,
    private readonly snapshots: SnapshotStore,
    @Inject(APP_CONFIG) config: AppConfig,
  ) {
    this.snapshotEvery = config.snapshotEvery ?? DEFAULT_SNAPSHOT_EVERY;
    this.cache = new LRUCache({ maxSize: hostCacheBytes(config, 'decider states'), sizeCalculation: hostStateBytes });
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
  }

  /** Records that `state` is now committed; every `snapshotEvery` events a snapshot is written in the background. */
  committed(hostId: string, state: HostState, versionBefore: number): void {
    this.cache.set(hostId, state);
    if (Math.floor(versionBefore / this.snapshotEvery) === Math.floor(state.version / this.snapshotEvery)) return;
    // Serialized now, under the host lock, because the next command mutates the state in place.
    const json = JSON.stringify(serializeHostState(state));
    const write = this.snapshots.save(hostId, state.version, json).catch((e: unknown) => {
      this.logger.warn(`snapshot of host ${hostId} at version ${state.version} not written: ${e instanceof Error ? e.message : String(e)}`);
    });
    this.snapshotWrites.add(write);
    void write.finally(() => this.snapshotWrites.delete(write));
  }

  /** Resolves once the snapshots being written are stored (shutdown, before the database closes; tests). */
  async snapshotsWritten(): Promise<void> {
    await Promise.all(this.snapshotWrites);
  }

  async beforeApplicationShutdown(): Promise<void> {
    await this.snapshotsWritten();
  }

  private async load(hostId: string): Promise<HostState> {
    const state = await this.fromSnapshot(hostId);
    for await (const batch of this.events.streamEvents(hostId, { afterVersion: state.version })) evolveAll(state, batch);
    // A host that does not exist (yet) is not cached: unknown ids must not fill the cache.
    if (state.version > 0) this.cache.set(hostId, state);
    return state;
  }

  private async fromSnapshot(hostId: string): Promise<HostState> {
    const snapshot = await this.snapshots.latest(hostId);
    if (!snapshot) return initialHostState();
    try {
      return deserializeHostState(snapshot.state);
    } catch (e) {
      // A snapshot this release cannot read is only an optimization lost: replay the whole stream.
      this.logger.warn(`snapshot of host ${hostId} at version ${snapshot.version} ignored: ${e instanceof Error ? e.message : String(e)}`);
      return initialHostState();
    }
  }
}
