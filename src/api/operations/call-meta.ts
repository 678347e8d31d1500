/** What a write's meta decorator (REST or gRPC) needs of its operation: the name in fingerprints, and whether the Idempotency-Key counts. */
export interface CallMetaOptions {
  operation: string;
  idempotencyKey: boolean;
}
