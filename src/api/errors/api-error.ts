import { HttpException } from '@nestjs/common';
import { isDomainError } from '../../model/errors';
import { bodyNotJson } from '../validation/validation-failed';
import { ERROR_STATUS, type ApiErrorCode, type TransportStatus } from './error-table';

/** An error as any transport sends it: the stable code, a message for people, details for programs. */
export interface ApiError {
  code: ApiErrorCode;
  message: string;
  details: Record<string, unknown>;
  status: TransportStatus;
  /** False when nobody expected it: the caller gets no internals, the log gets everything. */
  expected: boolean;
}

/** The body of every error answer (API.md "Errors"). */
export interface ErrorBody {
  error: { code: ApiErrorCode; message: string; details: Record<string, unknown> };
}

export function errorBody(error: ApiError): ErrorBody {
  return { error: { code: error.code, message: error.message, details: error.details } };
}

/**
 * Whatever was thrown, as the API error to answer with. Domain refusals (validation
 * failures included) carry their own code; framework errors (Nest's HttpExceptions, which
 * Fastify's own errors become) are the client's fault when their status says so (payload
 * too large, unknown route, a body without a content type); everything else is INTERNAL.
 */
export function toApiError(exception: unknown): ApiError {
  if (isDomainError(exception)) {
    return make(exception.code, exception.message, exception.details ?? {});
  }
  const httpStatus = clientErrorStatus(exception);
  if (httpStatus !== undefined) return fromClientStatus(httpStatus, (exception as Error).message);
  return { ...make('INTERNAL', 'internal error'), expected: false };
}

/**
 * The refusals of a request's size or pace, before any route sees it: VALIDATION_FAILED under
 * an HTTP status of their own (API.md "Errors"), declared on every operation.
 */
export const OWN_STATUS_REFUSALS = {
  408: 'request not received in time',
  413: 'request body too large',
  431: 'request headers too large',
} as const;

function isOwnStatusRefusal(status: number): status is keyof typeof OWN_STATUS_REFUSALS {
  return Object.hasOwn(OWN_STATUS_REFUSALS, status);
}

function make(code: ApiErrorCode, message: string, details: Record<string, unknown> = {}): ApiError {
  return { code, message, details, status: ERROR_STATUS[code], expected: true };
}

function fromClientStatus(httpStatus: number, message: string): ApiError {
  if (isOwnStatusRefusal(httpStatus)) {
    // Still the caller's bad input, but keeps its own HTTP status so clients can tell.
    const error = make('VALIDATION_FAILED', OWN_STATUS_REFUSALS[httpStatus]);
    return { ...error, status: { ...error.status, http: httpStatus } };
  }
  switch (httpStatus) {
    case 401:
      return make('UNAUTHENTICATED', message);
    case 403:
      return make('FORBIDDEN', message);
    case 404:
      return make('NOT_FOUND', message);
    case 415:
      return toApiError(bodyNotJson());
    default:
      return make('VALIDATION_FAILED', message);
  }
}

/** The 4xx status of a framework exception (e.g. the 404 of an unknown route, the 413 of a body over the limit). */
function clientErrorStatus(exception: unknown): number | undefined {
  if (!(exception instanceof HttpException)) return undefined;
  const status = exception.getStatus();
  return status >= 400 && status < 500 ? status : undefined;
}
