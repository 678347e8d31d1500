import { DomainError } from '../../domain/errors';
import type { FieldError } from './field-errors';

/** A request refused before it reached the domain; details list each bad field (API.md "Errors"). */
export function validationFailed(fields: FieldError[], message = 'request validation failed'): DomainError {
  return new DomainError('VALIDATION_FAILED', message, { fields });
}
