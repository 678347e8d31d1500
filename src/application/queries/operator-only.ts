import { DomainError } from '../../model/errors';
import type { Principal } from '../principal';

/** The hardware and verify reads expose every tenant's PASIDs: operator only, whatever the adapter checked. */
export function requireOperator(principal: Principal): void {
  if (principal.kind !== 'operator') throw new DomainError('FORBIDDEN', 'this operation is for the operator');
}
