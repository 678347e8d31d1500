import { applyDecorators } from '@nestjs/common';
import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { IsInt, IsOptional, IsString, Length, Matches, Max, Min, ValidateBy } from 'class-validator';
import { GPA_PATTERN, ID_PATTERN, MAX_ID_LENGTH, MAX_INT32, PAGE_SIZE, UUID_PATTERN } from './formats';

/**
 * Composite field decorators: validation, conversion and OpenAPI description of each kind
 * of field in one place, so every DTO states a field's kind once.
 */

interface FieldOptions {
  optional?: boolean;
  description?: string;
  example?: unknown;
}

function documented(type: 'string' | 'integer' | 'boolean', options: FieldOptions, extra: Record<string, unknown> = {}): PropertyDecorator {
  const doc = { type, description: options.description, example: options.example, ...extra };
  return options.optional ? applyDecorators(ApiPropertyOptional(doc), IsOptional()) : ApiProperty(doc);
}

/** An integer in [min, max]. A body must send a JSON number; see `fromDigits` for path and query. */
export function IntegerField(min: number, max: number = MAX_INT32, options: FieldOptions & { fromDigits?: boolean } = {}): PropertyDecorator {
  const decorators = [documented('integer', options, { minimum: min, maximum: max }), IsInt(), Min(min), Max(max)];
  // Path and query values are always strings: only plain digit strings become numbers, so "1.5", "-1" or "1e3" stay strings and fail IsInt.
  if (options.fromDigits) decorators.push(Transform(({ value }) => (typeof value === 'string' && /^\d{1,10}$/.test(value) ? Number(value) : value)));
  return applyDecorators(...decorators);
}

/** A caller-chosen id (host, VM, mdev). */
export function IdField(options: FieldOptions = {}): PropertyDecorator {
  return applyDecorators(
    documented('string', options, { pattern: ID_PATTERN.source, maxLength: MAX_ID_LENGTH }),
    IsString(),
    Length(1, MAX_ID_LENGTH),
    Matches(ID_PATTERN),
  );
}

/** A service-made id (fdId): a UUID. */
export function UuidField(options: FieldOptions = {}): PropertyDecorator {
  return applyDecorators(documented('string', options, { format: 'uuid' }), IsString(), Matches(UUID_PATTERN, { message: '$property must be a UUID' }));
}

/** A string matched against a pattern, bounded in length. */
export function PatternField(pattern: RegExp, maxLength: number, options: FieldOptions = {}): PropertyDecorator {
  return applyDecorators(documented('string', options, { pattern: pattern.source, maxLength }), IsString(), Length(1, maxLength), Matches(pattern));
}

/**
 * A page-aligned guest-physical address as a hex string. Written back in one canonical
 * form (lowercase, no leading zeros) so that the same address is always the same event
 * data and the same hardware hash.
 */
export function GpaField(options: FieldOptions = {}): PropertyDecorator {
  return applyDecorators(
    documented('string', { example: '0x7f0000', ...options }, { pattern: GPA_PATTERN.source }),
    Transform(({ value }) => (typeof value === 'string' && GPA_PATTERN.test(value) ? `0x${BigInt(value).toString(16)}` : value)),
    IsString(),
    Matches(GPA_PATTERN, { message: '$property must be a hex string like 0x7f0000' }),
    ValidateBy({
      name: 'isPageAligned',
      validator: {
        validate: (value: unknown) => typeof value === 'string' && GPA_PATTERN.test(value) && BigInt(value) % PAGE_SIZE === 0n,
        defaultMessage: () => '$property must be page aligned (a multiple of 0x1000)',
      },
    }),
  );
}
