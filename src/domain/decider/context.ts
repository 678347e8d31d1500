import type { Quotas } from '../model';

export interface DecideContext {
  /** The quotas of a tenant (I8: they count per tenant on this host). */
  quotasFor(tenantId: string): Quotas;
}
