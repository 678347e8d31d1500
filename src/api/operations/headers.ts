/**
 * The headers (gRPC: metadata keys) the API reads and writes besides Authorization, one entry
 * each: the transports read them by `key`, OpenAPI describes them by `name` and `description`.
 */
export interface ApiHeader {
  /** As OpenAPI and docs/API.md spell it. */
  name: string;
  /** Lower case: how Node's HTTP headers and gRPC metadata key it. */
  key: string;
  description: string;
}

export const HEADERS = {
  correlationId: {
    name: 'x-correlation-id',
    key: 'x-correlation-id',
    description: "correlates the request with its events and logs; answered on every response (the caller's, else the request's commandId)",
  },
  idempotencyKey: {
    name: 'Idempotency-Key',
    key: 'idempotency-key',
    description: 'at most 255 characters: a repeat within 24 h answers the first answer and appends nothing (docs/API.md "Idempotency")',
  },
} satisfies Record<string, ApiHeader>;

export const CORRELATION_HEADER = HEADERS.correlationId.key;
export const IDEMPOTENCY_KEY_HEADER = HEADERS.idempotencyKey.key;
