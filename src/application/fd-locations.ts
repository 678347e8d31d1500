import { Injectable, type OnModuleDestroy } from '@nestjs/common';
import { eventOf, type EventEnvelope } from '../model/envelope';
import { DomainError } from '../model/errors';
import { EventStore } from '../store/event-store';
import { FdDirectory, fdDirectoryChanges, type FdLocation } from '../store/fd-directory';

/** Fd locations kept in memory: an fd never changes host or tenant (a migration makes a new fd), so a hit is never stale. */
const MAX_CACHED = 100_000;

type CachedLocation = Pick<FdLocation, 'fdId' | 'hostId' | 'tenantId'>;

/**
 * Finds the host and owner of an fd for fd-scoped commands and reads, hiding other tenants' fds.
 * Fds this process opens are cached as they commit, so the command right after a create
 * (the next in every fd's life) needs no directory read.
 */
@Injectable()
export class FdLocations implements OnModuleDestroy {
  private readonly cache = new Map<string, CachedLocation>();
  private readonly unsubscribe: () => void;

  constructor(
    private readonly directory: FdDirectory,
    events: EventStore,
  ) {
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
    if (this.cache.size >= MAX_CACHED) this.cache.delete(this.cache.keys().next().value!);
    this.cache.set(location.fdId, location);
  }
}
