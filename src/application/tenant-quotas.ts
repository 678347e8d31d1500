import { Injectable } from '@nestjs/common';
import { DomainError } from '../model/errors';
import type { Quotas } from '../model/values';
import { TenantRepository } from '../store/tenant-repository';

/**
 * Quotas by tenant for the decider, whose context asks synchronously: a command first
 * `load`s the tenant it concerns, then decides. Quotas never change once a tenant exists,
 * so they are cached for the life of the process.
 */
@Injectable()
export class TenantQuotas {
  private readonly cache = new Map<string, Quotas>();

  constructor(private readonly tenants: TenantRepository) {}

  /** NOT_FOUND for a tenant that does not exist. */
  async load(tenantId: string): Promise<void> {
    if (this.cache.has(tenantId)) return;
    const tenant = await this.tenants.findById(tenantId);
    if (!tenant) throw new DomainError('NOT_FOUND', `tenant ${tenantId} not found`, { tenantId });
    this.cache.set(tenantId, tenant.quotas);
  }

  quotasFor(tenantId: string): Quotas {
    const quotas = this.cache.get(tenantId);
    // The handler loads the tenant of every command before deciding; reaching here without it is a bug.
    if (!quotas) throw new Error(`quotas of tenant ${tenantId} were not loaded before deciding`);
    return quotas;
  }
}
