import { QueryHandler, type IQueryHandler } from '@nestjs/cqrs';
import type { WhoAmIView } from '../../model';
import { TenantRepository } from '../../store/tenant-repository';
import { WhoAmIQuery } from '../messages';

/**
 * Who the bearer token belongs to, as the auth guard resolved it: the console chooses its start
 * page and navigation from this rather than guessing from what the token can read.
 */
@QueryHandler(WhoAmIQuery)
export class WhoAmIHandler implements IQueryHandler<WhoAmIQuery, WhoAmIView> {
  constructor(private readonly tenants: TenantRepository) {}

  async execute({ principal }: WhoAmIQuery): Promise<WhoAmIView> {
    if (principal.kind === 'operator') return { role: 'operator' };
    const tenant = await this.tenants.findById(principal.tenantId);
    // The guard found this tenant by its token a moment ago, and tenants are never deleted.
    if (!tenant) throw new Error(`tenant ${principal.tenantId} authenticated but not found`);
    return { role: 'tenant', tenantId: tenant.tenantId, name: tenant.name };
  }
}
