import { Inject, Injectable } from '@nestjs/common';
import { LRUCache } from 'lru-cache';
import { APP_CONFIG, hostCacheBytes, type AppConfig } from '../config';
import type { DecideContext } from '../domain';
import { DomainError } from '../model/errors';
import type { Quotas } from '../model/values';
import { TenantRepository } from '../store/tenant-repository';

/** Heap bytes of a cached entry: the map entry, the quotas object and the tenant id. */
function entryBytes(tenantId: string): number {
  return 200 + 2 * tenantId.length;
}

/**
 * Quotas by tenant for the decider. Quotas never change once a tenant exists, so the most
 * recently used are kept in memory (within their share of HOST_CACHE_MB) and any other is read
 * again from the store. The decider asks for them synchronously: `load` hands them over in the
 * context the command then decides with, so an eviction in between cannot take them away.
 */
@Injectable()
export class TenantQuotas {
  private readonly cache: LRUCache<string, Quotas>;

  constructor(
    private readonly tenants: TenantRepository,
    @Inject(APP_CONFIG) config: AppConfig,
  ) {
    this.cache = new LRUCache({ maxSize: hostCacheBytes(config, 'tenant quotas'), sizeCalculation: (_quotas, tenantId) => entryBytes(tenantId) });
  }

  /** Tenants held in memory and their estimated bytes (tests). */
  get cacheUsage(): { tenants: number; bytes: number } {
    return { tenants: this.cache.size, bytes: this.cache.calculatedSize };
  }

  /** The context to decide a command of `tenantId` with; NOT_FOUND for a tenant that does not exist. */
  async load(tenantId: string): Promise<DecideContext> {
    let quotas = this.cache.get(tenantId);
    if (!quotas) {
      const tenant = await this.tenants.findById(tenantId);
      if (!tenant) throw new DomainError('NOT_FOUND', `tenant ${tenantId} not found`, { tenantId });
      quotas = tenant.quotas;
      this.cache.set(tenantId, quotas);
    }
    return quotasOf(tenantId, quotas);
  }
}

/** The context of a command that decides on the quotas of `tenantId` only (the tenant of its fd). */
function quotasOf(tenantId: string, quotas: Quotas): DecideContext {
  return {
    quotasFor: (asked) => {
      // Every decision on quotas is about the command's own fd, whose tenant was loaded.
      if (asked !== tenantId) throw new Error(`a command of tenant ${tenantId} asked for the quotas of tenant ${asked}`);
      return quotas;
    },
  };
}

/** The context of a command that decides on no quota (the host's own commands, BarMigrationImport). */
export const NO_QUOTAS: DecideContext = {
  quotasFor: (tenantId) => {
    throw new Error(`a command that concerns no tenant asked for the quotas of tenant ${tenantId}`);
  },
};
