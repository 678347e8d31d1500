import { status, type handleUnaryCall } from '@grpc/grpc-js';
import type { LoggerService } from '@nestjs/common';
import { performance } from 'node:perf_hooks';
import { correlationIdFrom } from './access-log';
import { openRequestContext } from './request-context';

/** Health checks run every few seconds: logged at debug like the HTTP probes. */
const QUIET_SERVICE = '/grpc.health.v1.Health/';

/**
 * The gRPC counterpart of `accessLog`: wraps a unary handler so that its call has a request
 * context seeded with the `x-correlation-id` metadata, and writes one access line when it
 * answers (`msg: "rpc"`, method, code, ms, plus the tenant, host and command the guard
 * and handler added). Apply it where the transport builds its handlers, before guards run
 * (for Nest's ServerGrpc: override `createUnaryServiceMethod` and wrap what it returns).
 */
export function withGrpcContext<Req, Res>(logger: LoggerService, handler: handleUnaryCall<Req, Res>): handleUnaryCall<Req, Res> {
  return (call, callback) => {
    const started = performance.now();
    // Keyed by the metadata object: Nest hands that same object to guards and decorators (callKey).
    const context = openRequestContext(call.metadata, { correlationId: correlationIdFrom(call.metadata.get('x-correlation-id')[0]) });
    handler(call, (err, value, trailer, flags) => {
      const code: status = err ? (err.code ?? status.UNKNOWN) : status.OK;
      const method = call.getPath();
      const line = { msg: 'rpc', method, code: status[code], ms: Math.round((performance.now() - started) * 10) / 10, ...context };
      if (method.startsWith(QUIET_SERVICE)) logger.debug?.(line, 'grpc');
      else logger.log(line, 'grpc');
      callback(err, value, trailer, flags);
    });
  };
}
