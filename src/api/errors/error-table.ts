import { status as GrpcStatus } from '@grpc/grpc-js';
import { ERROR_CODES, type ErrorCode } from '../../model/errors';

/** The codes a client can see: the domain's stable codes plus INTERNAL for what nobody expected. */
export type ApiErrorCode = ErrorCode | 'INTERNAL';

export const API_ERROR_CODES: readonly ApiErrorCode[] = [...ERROR_CODES, 'INTERNAL'];

export interface TransportStatus {
  http: number;
  grpc: GrpcStatus;
}

const CONFLICT: TransportStatus = { http: 409, grpc: GrpcStatus.FAILED_PRECONDITION };
const UNPROCESSABLE: TransportStatus = { http: 422, grpc: GrpcStatus.OUT_OF_RANGE };
const EXHAUSTED: TransportStatus = { http: 429, grpc: GrpcStatus.RESOURCE_EXHAUSTED };

/**
 * API.md "Errors": the one place where a code becomes an HTTP and a gRPC status.
 * A Record over every code, so a code added to the domain does not compile until mapped.
 */
export const ERROR_STATUS: Record<ApiErrorCode, TransportStatus> = {
  VALIDATION_FAILED: { http: 400, grpc: GrpcStatus.INVALID_ARGUMENT },
  UNAUTHENTICATED: { http: 401, grpc: GrpcStatus.UNAUTHENTICATED },
  FORBIDDEN: { http: 403, grpc: GrpcStatus.PERMISSION_DENIED },
  NOT_FOUND: { http: 404, grpc: GrpcStatus.NOT_FOUND },
  ALREADY_EXISTS: { http: 409, grpc: GrpcStatus.ALREADY_EXISTS },
  HWID_MODE_NOT_SET: CONFLICT,
  HWID_MODE_ALREADY_SET: CONFLICT,
  WRONG_HWID_MODE: CONFLICT,
  GLOBAL_MIN_LOCKED: CONFLICT,
  HWID_ALREADY_SET: CONFLICT,
  HWID_NOT_SET: CONFLICT,
  PASID_IN_USE: CONFLICT,
  PASID_NOT_OWNED: CONFLICT,
  DEVICE_BUSY: CONFLICT,
  ALREADY_ATTACHED: CONFLICT,
  NOT_ATTACHED: CONFLICT,
  IOASID_BUSY: CONFLICT,
  CAPABILITY_MISSING: CONFLICT,
  NOT_MIGRATABLE: CONFLICT,
  FD_MIGRATING: CONFLICT,
  VERSION_CONFLICT: CONFLICT,
  HOST_BUSY: CONFLICT,
  HOST_CORDONED: CONFLICT,
  HOST_DECOMMISSIONED: CONFLICT,
  PRECONDITION_FAILED: { http: 412, grpc: GrpcStatus.FAILED_PRECONDITION },
  PASID_OUT_OF_RANGE: UNPROCESSABLE,
  PASID_WIDTH_EXCEEDED: UNPROCESSABLE,
  INVALID_RANGE: UNPROCESSABLE,
  DEVICE_MAP_INVALID: UNPROCESSABLE,
  IDEMPOTENCY_KEY_REUSED: UNPROCESSABLE,
  QUOTA_EXCEEDED: EXHAUSTED,
  PASID_EXHAUSTED: EXHAUSTED,
  UNAVAILABLE: { http: 503, grpc: GrpcStatus.UNAVAILABLE },
  INTERNAL: { http: 500, grpc: GrpcStatus.INTERNAL },
};
