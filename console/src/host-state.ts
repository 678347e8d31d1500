import type { HostView } from './types';

/** A host's lifecycle state in one word: decommissioned outranks cordoned (docs/DOMAIN.md, "Host lifecycle"). */
export function hostState(host: HostView): 'active' | 'cordoned' | 'decommissioned' {
  if (host.decommissioned) return 'decommissioned';
  return host.cordoned ? 'cordoned' : 'active';
}
