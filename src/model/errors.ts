/** Stable error codes of API.md. The HTTP/gRPC mapping lives in the API layer. */
export const ERROR_CODES = [
  'VALIDATION_FAILED',
  'UNAUTHENTICATED',
  'FORBIDDEN',
  'NOT_FOUND',
  'ALREADY_EXISTS',
  'HWID_MODE_NOT_SET',
  'HWID_MODE_ALREADY_SET',
  'WRONG_HWID_MODE',
  'GLOBAL_MIN_LOCKED',
  'HWID_ALREADY_SET',
  'HWID_NOT_SET',
  'PASID_IN_USE',
  'PASID_NOT_OWNED',
  'DEVICE_BUSY',
  'ALREADY_ATTACHED',
  'NOT_ATTACHED',
  'IOASID_BUSY',
  'CAPABILITY_MISSING',
  'NOT_MIGRATABLE',
  'FD_MIGRATING',
  'VERSION_CONFLICT',
  'HOST_BUSY',
  'HOST_CORDONED',
  'HOST_DECOMMISSIONED',
  'PRECONDITION_FAILED',
  'PASID_OUT_OF_RANGE',
  'PASID_WIDTH_EXCEEDED',
  'INVALID_RANGE',
  'DEVICE_MAP_INVALID',
  'IDEMPOTENCY_KEY_REUSED',
  'QUOTA_EXCEEDED',
  'PASID_EXHAUSTED',
  'UNAVAILABLE',
] as const;

export type ErrorCode = (typeof ERROR_CODES)[number];

/** The only thing `decide` may throw: a refusal with a stable code. */
export class DomainError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly details?: Record<string, unknown>,
  ) {
    super(message);
    this.name = 'DomainError';
  }
}

export function isDomainError(e: unknown): e is DomainError {
  return e instanceof DomainError;
}
