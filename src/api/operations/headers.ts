/** The headers (gRPC: metadata keys) the API reads and writes besides Authorization, named once for both transports and OpenAPI. */

/** Read and echoed on every answer: the caller's correlation id, else the request's commandId. */
export const CORRELATION_HEADER = 'x-correlation-id';

/** Read on writes: a repeat with the same key answers the first answer (docs/API.md "Idempotency"). */
export const IDEMPOTENCY_KEY_HEADER = 'idempotency-key';
