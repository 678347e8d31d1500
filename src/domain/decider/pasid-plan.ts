import type { Quotas } from '../../model/values';
import { tenantUsage, type HostState } from '../state';
import { fail } from './guards';

/**
 * Picks host PASIDs for one decision without touching the allocator (decide never mutates):
 * PASIDs picked earlier in the same decision are skipped, and the tenant's quota counts them.
 */
export class PasidPlan {
  private readonly picked = new Set<number>();

  constructor(
    private readonly state: HostState,
    private readonly tenantId: string,
    private readonly quotas: Quotas,
  ) {}

  get allocated(): number[] {
    return [...this.picked];
  }

  /** The lowest free PASID in [min, max), or QUOTA_EXCEEDED / PASID_EXHAUSTED. */
  take(min: number, max: number, purpose: string): number {
    const held = tenantUsage(this.state, this.tenantId).hostPasids + this.picked.size;
    if (held >= this.quotas.maxHostPasids) {
      fail('QUOTA_EXCEEDED', `tenant ${this.tenantId} holds ${held} host PASIDs on this host, its quota is ${this.quotas.maxHostPasids}`, {
        quota: 'maxHostPasids',
        limit: this.quotas.maxHostPasids,
      });
    }
    const allocator = this.state.hw.allocator!;
    let candidate = allocator.lowestFree(min, max);
    while (candidate !== undefined && this.picked.has(candidate)) candidate = allocator.lowestFree(candidate + 1, max);
    if (candidate === undefined) {
      fail('PASID_EXHAUSTED', `no free host PASID in [${min}, ${max}) for ${purpose}`, { min, max });
    }
    this.picked.add(candidate);
    return candidate;
  }
}
