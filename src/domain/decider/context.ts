import type { Quotas } from '../../model/values';

export interface DecideContext {
  /** The quotas of a tenant (I8: they count per tenant on this host). */
  quotasFor(tenantId: string): Quotas;
}
