import { ValidationPipe, type ArgumentMetadata } from '@nestjs/common';
import { fieldErrors } from './field-errors';
import { memoizeValidationMetadata } from './metadata-cache';
import { validationFailed } from './validation-failed';

/**
 * The validation of every request, REST and gRPC alike: the DTO classes of src/api/dto
 * say what is allowed; unknown fields are refused, not dropped; nothing is converted
 * implicitly (a string where a number goes is an error; the query and path DTOs convert
 * their digit strings explicitly).
 */
class ApiValidationPipe extends ValidationPipe {
  constructor() {
    super({
      whitelist: true,
      forbidNonWhitelisted: true,
      // A DTO without rules (a body-less operation) must still refuse unknown fields, which class-validator only checks with this off.
      forbidUnknownValues: false,
      transform: true,
      transformOptions: { enableImplicitConversion: false },
      validationError: { target: false, value: false },
      exceptionFactory: (errors) => validationFailed(fieldErrors(errors)),
    });
  }

  /** A body is an object: a JSON array would otherwise pass a DTO that has no required field. */
  override async transform(value: unknown, metadata: ArgumentMetadata): Promise<unknown> {
    if (metadata.type === 'body' && value !== undefined && (typeof value !== 'object' || value === null || Array.isArray(value))) {
      throw validationFailed([{ field: 'body', message: 'the body must be a JSON object' }]);
    }
    return super.transform(value, metadata);
  }
}

export function createValidationPipe(): ValidationPipe {
  memoizeValidationMetadata();
  return new ApiValidationPipe();
}
