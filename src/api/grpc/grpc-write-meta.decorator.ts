import type { Metadata } from '@grpc/grpc-js';
import { createParamDecorator, type ExecutionContext } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import type { RequestMeta } from '../../application/request-meta';
import { principalOf } from '../../auth/principal-context';
import { correlationIdFrom } from '../../observability/access-log';
import { addToContext, requestContextOf } from '../../observability/request-context';
import { buildRequestMeta } from '../request-meta';
import { CORRELATION_HEADER } from '../rest/request-ids';

export interface GrpcWriteMetaOptions {
  /** A read-like RPC that is a command underneath (GetHwid): REST's GET ignores Idempotency-Key, so does this. */
  ignoreIdempotencyKey?: boolean;
}

/**
 * The RequestMeta of a gRPC write, built by the same code as REST's: ids per call, the
 * caller's `x-correlation-id` and `idempotency-key` metadata, and a fingerprint over the
 * RPC and its whole request message.
 */
export const GrpcWriteMeta = createParamDecorator((options: GrpcWriteMetaOptions | undefined, context: ExecutionContext): RequestMeta => {
  const rpc = context.switchToRpc();
  const metadata = rpc.getContext<Metadata>();
  const commandId = randomUUID();
  const correlationId = correlationIdFrom(metadata.get(CORRELATION_HEADER)[0]) ?? commandId;
  const logContext = requestContextOf(metadata);
  addToContext(logContext, { correlationId });
  return buildRequestMeta({
    principal: principalOf(context),
    operation: context.getHandler().name,
    payload: rpc.getData(),
    commandId,
    correlationId,
    idempotencyKey: options?.ignoreIdempotencyKey ? undefined : metadata.get('idempotency-key'),
    // Validated with the request message (ExpectedVersionDto): a bad value never reaches the handler.
    expectedFdVersion: expectedVersionOf(rpc.getData()),
    context: logContext,
  });
});

function expectedVersionOf(request: unknown): number | undefined {
  const value = (request as { expectedVersion?: unknown } | null)?.expectedVersion;
  return typeof value === 'number' && Number.isInteger(value) ? value : undefined;
}
