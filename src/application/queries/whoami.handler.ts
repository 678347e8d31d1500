import { QueryHandler, type IQueryHandler } from '@nestjs/cqrs';
import type { WhoAmIView } from '../../model';
import { DomainError } from '../../model/errors';
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
    // The guard may have found the token in its cache (TenantRepository) after the row was removed from the store:
    // the token then belongs to nobody, as the guard will say too once its cache forgets it.
    if (!tenant) throw new DomainError('UNAUTHENTICATED', 'the tenant of this token no longer exists');
    return { role: 'tenant', tenantId: tenant.tenantId, name: tenant.name };
  }
}
