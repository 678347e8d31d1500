import type { PasidRange, Quotas } from '../../model/values';
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
    const reserved = this.state.host?.reservedPasids ?? [];
    let candidate = allocator.lowestFree(min, max);
    for (;;) {
      if (candidate === undefined) break;
      if (this.picked.has(candidate)) {
        candidate = allocator.lowestFree(candidate + 1, max);
        continue;
      }
      // The host kernel's own PASIDs: skip the whole range.
      const range = reservedRangeOf(reserved, candidate);
      if (!range) break;
      candidate = allocator.lowestFree(range.from + range.count, max);
    }
    if (candidate === undefined) {
      fail('PASID_EXHAUSTED', `no free host PASID in [${min}, ${max}) for ${purpose}`, { min, max });
    }
    this.picked.add(candidate);
    return candidate;
  }
}

/** The reserved range holding `pasid` (ranges sorted and disjoint: a binary search). */
function reservedRangeOf(ranges: readonly PasidRange[], pasid: number): PasidRange | undefined {
  let lo = 0;
  let hi = ranges.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    const r = ranges[mid]!;
    if (pasid < r.from) hi = mid - 1;
    else if (pasid >= r.from + r.count) lo = mid + 1;
    else return r;
  }
  return undefined;
}
