/** What a write's meta decorator (REST or gRPC) needs of its operation: the name in fingerprints, whether the Idempotency-Key counts, and whether If-Match (gRPC `expectedVersion`) conditions it. */
export interface CallMetaOptions {
  operation: string;
  idempotencyKey: boolean;
  conditional: boolean;
}
