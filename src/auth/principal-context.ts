import type { ExecutionContext } from '@nestjs/common';
import type { Principal } from '../application/principal';
import { callKey } from '../observability/request-context';

/**
 * Where the guard leaves the caller for the handler: keyed by the request (REST) or the
 * call's metadata object (gRPC), both of which live exactly as long as the call.
 */
const principals = new WeakMap<object, Principal>();

export function attachPrincipal(context: ExecutionContext, principal: Principal): void {
  principals.set(callKey(context), principal);
}

/** The authenticated caller; throws if the guard did not run (a handler marked public asked for one). */
export function principalOf(context: ExecutionContext): Principal {
  const principal = principals.get(callKey(context));
  if (!principal) throw new Error('no principal: the handler is not behind the auth guard');
  return principal;
}
