import { tenantScopeOf, type Principal } from '../../application/principal';
import { DomainError } from '../../model/errors';
import { validationFailed } from '../validation/validation-failed';

/** The fd part of an fd-scoped command: a tenant acts only on its own fds (another's is NOT_FOUND in the decider). */
export function fdScope(principal: Principal, fdId: string): { fdId: string; actorTenantId?: string } {
  const tenantId = tenantScopeOf(principal);
  return tenantId === undefined ? { fdId } : { fdId, actorTenantId: tenantId };
}

/** A tenant's fds are its own; the operator names the tenant it creates an fd for. */
export function owningTenant(principal: Principal, requested: string | undefined): string {
  if (principal.kind === 'tenant') {
    if (requested !== undefined && requested !== principal.tenantId) throw new DomainError('FORBIDDEN', 'a tenant creates fds only for itself');
    return principal.tenantId;
  }
  if (requested === undefined) throw validationFailed([{ field: 'tenantId', message: 'tenantId is required when the operator creates an fd' }]);
  return requested;
}
