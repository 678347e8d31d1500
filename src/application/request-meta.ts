import type { RequestContext } from '../observability/request-context';
import type { Principal } from './principal';

/** What every write carries besides its payload, whatever the transport (REST or gRPC). */
export interface RequestMeta {
  principal: Principal;
  /** Unique per request; recorded in every event it causes. */
  commandId: string;
  /** From the caller's `x-correlation-id` when given, else the commandId. */
  correlationId: string;
  /** Present when the request has an `Idempotency-Key`. */
  idempotency?: IdempotencyKey;
  /** If-Match (gRPC `expectedVersion`): the fd version the caller saw; the write is PRECONDITION_FAILED if the fd changed since. */
  expectedFdVersion?: number;
  /** The request's log context: the handler adds the command and host it resolves. */
  context?: RequestContext;
}

export interface IdempotencyKey {
  /** `Idempotency-Key`, at most 255 characters, scoped to the principal's tenant. */
  key: string;
  /**
   * Fingerprint of the request (operation + canonical body): the same key with another
   * fingerprint is IDEMPOTENCY_KEY_REUSED. Only computed for a request with a key.
   */
  fingerprint: string;
}

/**
 * A write's answer: its body, undefined when there is none. Each transport sends it its own
 * way (REST with the operation's success status, gRPC as the response message).
 */
export interface Answer {
  body: unknown;
}
