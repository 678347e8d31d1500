/** Who is calling, once the bearer token has been checked (src/auth). */
export type Principal = { kind: 'operator' } | { kind: 'tenant'; tenantId: string };

export const OPERATOR: Principal = { kind: 'operator' };

/** The tenant whose objects a principal may see; undefined for the operator (all). */
export function tenantScopeOf(principal: Principal): string | undefined {
  return principal.kind === 'tenant' ? principal.tenantId : undefined;
}
