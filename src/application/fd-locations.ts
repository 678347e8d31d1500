import { Injectable } from '@nestjs/common';
import { DomainError } from '../domain/errors';
import { FdDirectory, type FdLocation } from '../store/fd-directory';

/** Fd locations kept in memory: an fd never changes host or tenant (a migration makes a new fd), so a hit is never stale. */
const MAX_CACHED = 100_000;

/** Finds the host and owner of an fd for fd-scoped commands and reads, hiding other tenants' fds. */
@Injectable()
export class FdLocations {
  private readonly cache = new Map<string, Pick<FdLocation, 'fdId' | 'hostId' | 'tenantId'>>();

  constructor(private readonly directory: FdDirectory) {}

  /** NOT_FOUND when the fd does not exist or belongs to another tenant than `tenantScope` (when given). */
  async locate(fdId: string, tenantScope: string | undefined): Promise<Pick<FdLocation, 'fdId' | 'hostId' | 'tenantId'>> {
    let location = this.cache.get(fdId);
    if (!location) {
      const found = await this.directory.find(fdId);
      if (found) {
        location = { fdId: found.fdId, hostId: found.hostId, tenantId: found.tenantId };
        if (this.cache.size >= MAX_CACHED) this.cache.delete(this.cache.keys().next().value!);
        this.cache.set(fdId, location);
      }
    }
    if (!location || (tenantScope !== undefined && location.tenantId !== tenantScope)) {
      throw new DomainError('NOT_FOUND', `fd ${fdId} not found`, { fdId });
    }
    return location;
  }
}
