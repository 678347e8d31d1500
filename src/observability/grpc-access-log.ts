import { status, type handleServerStreamingCall, type handleUnaryCall, type Metadata, type ServiceError } from '@grpc/grpc-js';
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
    const access = openAccess(logger, call.metadata, call.getPath());
    handler(call, (err, value, trailer, flags) => {
      access.done(err ? (err.code ?? status.UNKNOWN) : status.OK);
      callback(err, value, trailer, flags);
    });
  };
}

/**
 * The same for a server-streaming handler (the watch): one line when the stream ends, whether
 * the server ends it (OK, or the status of the error it emits) or the client leaves
 * (CANCELLED), with the number of messages it sent.
 */
export function withGrpcStreamContext<Req, Res>(logger: LoggerService, handler: handleServerStreamingCall<Req, Res>): handleServerStreamingCall<Req, Res> {
  return (call) => {
    const access = openAccess(logger, call.metadata, call.getPath());
    let messages = 0;
    const write = call.write.bind(call) as (...args: unknown[]) => boolean;
    (call as { write: unknown }).write = (...args: unknown[]) => {
      messages++;
      return write(...args);
    };
    call.once('error', (err: Partial<ServiceError>) => access.done(err.code ?? status.UNKNOWN, { messages }));
    call.once('cancelled', () => access.done(status.CANCELLED, { messages }));
    call.once('finish', () => access.done(status.OK, { messages }));
    handler(call);
  };
}

/** A call's request context, seeded with its `x-correlation-id`, and its access line once it ends (the first end counts). */
function openAccess(logger: LoggerService, metadata: Metadata, method: string): { done(code: status, extra?: object): void } {
  const started = performance.now();
  // Keyed by the metadata object: Nest hands that same object to guards and decorators (callKey).
  const context = openRequestContext(metadata, { correlationId: correlationIdFrom(metadata.get('x-correlation-id')[0]) });
  let logged = false;
  return {
    done(code, extra = {}) {
      if (logged) return;
      logged = true;
      const line = { msg: 'rpc', method, code: status[code], ms: Math.round((performance.now() - started) * 10) / 10, ...extra, ...context };
      if (method.startsWith(QUIET_SERVICE)) logger.debug?.(line, 'grpc');
      else logger.log(line, 'grpc');
    },
  };
}
