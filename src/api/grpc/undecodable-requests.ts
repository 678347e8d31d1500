import type { handleServerStreamingCall, handleUnaryCall, ServiceError } from '@grpc/grpc-js';
import type { PackageDefinition } from '@grpc/proto-loader';
import { toApiError } from '../errors/api-error';
import { grpcStatusOf } from '../errors/grpc-error';
import { validationFailed } from '../validation/validation-failed';

const UNDECODABLE = Symbol('undecodable request');

/**
 * grpc-js answers INTERNAL, before any of our code runs, when a request's bytes do not decode
 * (truncated, wrong wire type, invalid UTF-8 in a string). API.md promises INVALID_ARGUMENT for
 * malformed input on both transports, so each method's decoder returns a marker instead of
 * throwing, and `refuseUndecodable` answers it. Call on the package definition before it is loaded.
 */
export function markUndecodableRequests(pkg: PackageDefinition): void {
  for (const definition of Object.values(pkg)) {
    for (const method of Object.values(definition as object) as Array<{ requestDeserialize?: unknown }>) {
      const decode = method?.requestDeserialize;
      if (typeof decode !== 'function') continue;
      method.requestDeserialize = (bytes: Buffer): unknown => {
        try {
          return decode(bytes);
        } catch (e) {
          return { [UNDECODABLE]: e instanceof Error ? e.message : String(e) };
        }
      };
    }
  }
}

/** Wraps a unary handler: a request that did not decode is refused as VALIDATION_FAILED (INVALID_ARGUMENT). */
export function refuseUndecodable<Req, Res>(handler: handleUnaryCall<Req, Res>): handleUnaryCall<Req, Res> {
  return (call, callback) => {
    const refusal = refusalOf(call.request);
    if (refusal) callback(refusal, null);
    else handler(call, callback);
  };
}

/** The same for a server-streaming handler (the watch): the refusal is the call's status, before anything streams. */
export function refuseUndecodableStream<Req, Res>(handler: handleServerStreamingCall<Req, Res>): handleServerStreamingCall<Req, Res> {
  return (call) => {
    const refusal = refusalOf(call.request);
    if (refusal) call.emit('error', refusal);
    else handler(call);
  };
}

function refusalOf(request: unknown): ServiceError | undefined {
  if (typeof request !== 'object' || request === null || !(UNDECODABLE in request)) return undefined;
  const error = grpcStatusOf(toApiError(validationFailed([{ field: 'request', message: 'the request message is not valid protobuf' }], 'the request does not decode')));
  return Object.assign(new Error(error.message), error) as ServiceError;
}
