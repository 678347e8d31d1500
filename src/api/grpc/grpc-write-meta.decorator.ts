import type { Metadata } from '@grpc/grpc-js';
import { createParamDecorator, type ExecutionContext } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import type { RequestMeta } from '../../application/request-meta';
import { principalOf } from '../../auth/principal-context';
import { correlationIdFrom } from '../../observability/access-log';
import { addToContext, requestContextOf } from '../../observability/request-context';
import type { CallMetaOptions } from '../operations/call-meta';
import { CORRELATION_HEADER, IDEMPOTENCY_KEY_HEADER } from '../operations/headers';
import { buildRequestMeta } from '../request-meta';

/**
 * The RequestMeta of a gRPC write, built by the same code as REST's: ids per call, the
 * caller's `x-correlation-id` and `idempotency-key` metadata, a fingerprint over the
 * operation and its whole request message, and an fd write's `expectedVersion` (REST's If-Match).
 */
export const GrpcWriteMeta = createParamDecorator((options: CallMetaOptions, context: ExecutionContext): RequestMeta => {
  const rpc = context.switchToRpc();
  const metadata = rpc.getContext<Metadata>();
  const commandId = randomUUID();
  const correlationId = correlationIdFrom(metadata.get(CORRELATION_HEADER)[0]) ?? commandId;
  const logContext = requestContextOf(metadata);
  addToContext(logContext, { correlationId });
  return buildRequestMeta({
    principal: principalOf(context),
    operation: options.operation,
    payload: rpc.getData(),
    commandId,
    correlationId,
    idempotencyKey: options.idempotencyKey ? metadata.get(IDEMPOTENCY_KEY_HEADER) : undefined,
    // Validated with the request message (ExpectedVersionDto): a bad value never reaches the handler.
    expectedFdVersion: options.conditional ? expectedVersionOf(rpc.getData()) : undefined,
    context: logContext,
  });
});

function expectedVersionOf(request: unknown): number | undefined {
  const value = (request as { expectedVersion?: unknown } | null)?.expectedVersion;
  return typeof value === 'number' && Number.isInteger(value) ? value : undefined;
}
