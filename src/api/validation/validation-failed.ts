import { DomainError } from '../../model/errors';
import type { FieldError } from './field-errors';

/** A request refused before it reached the domain; details list each bad field (API.md "Errors"). */
export function validationFailed(fields: FieldError[], message = 'request validation failed'): DomainError {
  return new DomainError('VALIDATION_FAILED', message, { fields });
}

/** A body that is not JSON, or a body without a Content-Type: the API reads JSON only. */
export function bodyNotJson(): DomainError {
  return validationFailed([{ field: 'Content-Type', message: 'the body must be application/json' }], 'the request body must be JSON');
}
