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
  ifMatch: {
    name: 'If-Match',
    key: 'if-match',
    description: 'the fd\'s ETag as GET /v1/fds/{fdId} answered it (or *): the write is refused with 412 PRECONDITION_FAILED if the fd changed since (gRPC: `expected_version`; docs/API.md "Conditional writes")',
  },
  etag: {
    name: 'ETag',
    key: 'etag',
    description: 'the fd\'s version, quoted ("12"): the host version of its last change, for If-Match on its writes (gRPC: initial metadata `etag`)',
  },
  lastEventId: {
    name: 'Last-Event-ID',
    key: 'last-event-id',
    description: 'the `id:` of the last event received: resume right after it (the `after` query parameter wins; docs/API.md "Watching events")',
  },
} satisfies Record<string, ApiHeader>;

export const CORRELATION_HEADER = HEADERS.correlationId.key;
export const IDEMPOTENCY_KEY_HEADER = HEADERS.idempotencyKey.key;
export const IF_MATCH_HEADER = HEADERS.ifMatch.key;
