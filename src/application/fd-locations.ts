import { Inject, Injectable, type OnModuleDestroy } from '@nestjs/common';
import { LRUCache } from 'lru-cache';
import { APP_CONFIG, hostCacheBytes, type AppConfig } from '../config';
import { eventOf, type EventEnvelope } from '../model/envelope';
import { DomainError } from '../model/errors';
import { EventStore } from '../store/event-store';
import { FdDirectory, fdDirectoryChanges, type FdLocation } from '../store/fd-directory';

type CachedLocation = Pick<FdLocation, 'fdId' | 'hostId' | 'tenantId'>;

/** Heap bytes of a cached location: the map entry and object, and its three strings. */
function locationBytes(l: CachedLocation): number {
  return 160 + 2 * (l.fdId.length + l.hostId.length + l.tenantId.length);
}

/**
 * Fd locations are kept in memory (the least recently used go first, within their share of
 * HOST_CACHE_MB): an fd never changes host or tenant (a migration makes a new fd), so a hit is
 * never stale.
 *
 * Finds the host and owner of an fd for fd-scoped commands and reads, hiding other tenants' fds.
 * Fds this process opens are cached as they commit, so the command right after a create
 * (the next in every fd's life) needs no directory read.
 */
@Injectable()
export class FdLocations implements OnModuleDestroy {
  private readonly cache: LRUCache<string, CachedLocation>;
  private readonly unsubscribe: () => void;

  constructor(
    private readonly directory: FdDirectory,
    events: EventStore,
    @Inject(APP_CONFIG) config: AppConfig,
  ) {
    this.cache = new LRUCache({ maxSize: hostCacheBytes(config, 'fd locations'), sizeCalculation: locationBytes });
    this.unsubscribe = events.onCommit((envelopes) => this.learn(envelopes));
  }

  onModuleDestroy(): void {
    this.unsubscribe();
  }

  /** NOT_FOUND when the fd does not exist or belongs to another tenant than `tenantScope` (when given). */
  async locate(fdId: string, tenantScope: string | undefined): Promise<CachedLocation> {
    let location = this.cache.get(fdId);
    if (!location) {
      const found = await this.directory.find(fdId);
      if (found) {
        location = { fdId: found.fdId, hostId: found.hostId, tenantId: found.tenantId };
        this.remember(location);
      }
    }
    if (!location || (tenantScope !== undefined && location.tenantId !== tenantScope)) {
      throw new DomainError('NOT_FOUND', `fd ${fdId} not found`, { fdId });
    }
    return location;
  }

  private learn(envelopes: readonly EventEnvelope[]): void {
    for (const envelope of envelopes) {
      for (const change of fdDirectoryChanges(envelope.hostId, [eventOf(envelope)])) {
        if (change.kind === 'open') this.remember({ fdId: change.fdId, hostId: change.hostId, tenantId: change.tenantId });
      }
    }
  }

  private remember(location: CachedLocation): void {
    this.cache.set(location.fdId, location);
  }
}
