import { hash } from 'node:crypto';
import type { Principal } from '../application/principal';
import type { RequestMeta } from '../application/request-meta';
import type { RequestContext } from '../observability/request-context';
import { canonicalJson } from '../model/canonical-json';
import { MAX_IDEMPOTENCY_KEY_LENGTH } from './dto/formats';
import { validationFailed } from './validation/validation-failed';

export interface CallFacts {
  principal: Principal;
  /** Names the operation in the fingerprint, so one key on two operations is a reuse. */
  operation: string;
  /** Everything that makes the request what it is (path parameters, query, body). */
  payload: unknown;
  /** Unique per request. */
  commandId: string;
  correlationId: string;
  /** The raw `Idempotency-Key` header or metadata value, if any. */
  idempotencyKey?: unknown;
  /** If-Match (REST) or `expectedVersion` (gRPC): the fd version the write is conditional on. */
  expectedFdVersion?: number;
  context?: RequestContext;
}

/** The RequestMeta of a write, whatever the transport; refuses an unusable Idempotency-Key. */
export function buildRequestMeta(call: CallFacts): RequestMeta {
  const key = idempotencyKeyOf(call.idempotencyKey);
  return {
    principal: call.principal,
    commandId: call.commandId,
    correlationId: call.correlationId,
    // Only a request with a key is ever compared with another: the others skip the fingerprint.
    ...(key === undefined ? {} : { idempotency: { key, fingerprint: hash('sha256', `${call.operation}\n${canonicalJson(call.payload)}`) } }),
    ...(call.expectedFdVersion === undefined ? {} : { expectedFdVersion: call.expectedFdVersion }),
    ...(call.context ? { context: call.context } : {}),
  };
}

function idempotencyKeyOf(raw: unknown): string | undefined {
  const value = Array.isArray(raw) ? raw[0] : raw;
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || value.length === 0 || value.length > MAX_IDEMPOTENCY_KEY_LENGTH) {
    throw validationFailed([{ field: 'Idempotency-Key', message: `Idempotency-Key must be 1 to ${MAX_IDEMPOTENCY_KEY_LENGTH} characters` }]);
  }
  return value;
}
