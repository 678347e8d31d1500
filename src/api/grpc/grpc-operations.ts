import { Metadata, type ServerUnaryCall, type ServerWritableStream } from '@grpc/grpc-js';
import type { Type } from '@nestjs/common';
import { GrpcMethod, Payload } from '@nestjs/microservices';
import { ApiExcludeController, IntersectionType } from '@nestjs/swagger';
import { from, mergeMap, Observable } from 'rxjs';
import { OperatorOnly } from '../../auth/access.decorators';
import { CurrentPrincipal } from '../../auth/current-principal.decorator';
import type { Principal } from '../../application/principal';
import type { RequestMeta } from '../../application/request-meta';
import type { ApplicationServices } from '../operations/application-services';
import type { Execution, Operation } from '../operations/operation';
import { addHandler, operationsController, runOperation, type HandlerParameter } from '../operations/operation-handlers';
import { ExpectedVersionDto } from './expected-version.dto';
import { GrpcCall } from './grpc-call.decorator';
import { streamToCall } from './grpc-stream';
import { GrpcWriteMeta } from './grpc-write-meta.decorator';
import { IOASID_SERVICE } from './proto-path';

/**
 * ioasid.v1.IoasidService, one method per row of the operation table. The global pipe
 * validates the request message against the row's REST DTO classes (their intersection: gRPC
 * carries path, query and body in one message, so both transports accept exactly the same
 * values; a conditional write adds `expectedVersion`, REST's If-Match), the global guard
 * authenticates, and errors leave through the shared exception filter. The answer is REST's
 * body (ioasid.v1.Empty when there is none), shaped by the row's `grpc.message` where the
 * proto carries JSON strings; the headers REST answers go out as initial metadata. A stream
 * row is a server-streaming method. Not part of the OpenAPI document.
 */
export function grpcController(operations: readonly Operation[]): Type {
  return operationsController('GrpcOperationsController', operations, [ApiExcludeController()], addMethod);
}

type Handler = (this: { services: ApplicationServices }, ...args: unknown[]) => unknown;
type StreamOpener = Extract<Execution<unknown>, { kind: 'stream' }>['open'];

function addMethod(controller: Type, op: Operation): void {
  const request = requestClassOf(op);
  const payload: HandlerParameter[] = request ? [[Payload(), request]] : [];
  const execution = op.execution;
  const call = execution.kind === 'write' ? GrpcWriteMeta({ operation: op.id, idempotencyKey: execution.idempotencyKey, conditional: op.conditional }) : CurrentPrincipal();
  // Without a request class the call's arguments start after the (unvalidated, empty) message.
  const at = request ? 1 : 0;
  const inputOf = (args: unknown[]): unknown => (request ? args[0] : {});
  const handler = execution.kind === 'stream' ? streamHandler(op, execution.open, inputOf, at) : answerHandler(op, inputOf, at);
  const descriptor = addHandler(controller, op.id, handler as (...args: unknown[]) => Promise<unknown>, [...payload, [call, Object], [GrpcCall(), Object]]);
  GrpcMethod(IOASID_SERVICE, op.grpc.method)(controller.prototype, op.id, descriptor);
  if (op.operatorOnly) OperatorOnly()(controller.prototype, op.id, descriptor);
}

function answerHandler(op: Operation, inputOf: (args: unknown[]) => unknown, at: number): Handler {
  return async function (...args) {
    const answer = await runOperation(op, inputOf(args), args[at] as RequestMeta | Principal, this.services);
    if (answer.headers) (args[at + 1] as ServerUnaryCall<unknown, unknown>).sendMetadata(metadataOf(answer.headers));
    const message = answer.body ?? {};
    return op.grpc.message ? op.grpc.message(message) : message;
  };
}

/**
 * Opened (or refused) first, then written straight to the call, waiting for it to drain
 * (Nest's own observable bridge would buffer without bound); the observable only says when
 * it is over.
 */
function streamHandler(op: Operation, open: StreamOpener, inputOf: (args: unknown[]) => unknown, at: number): Handler {
  const message = op.grpc.message ?? ((item: unknown) => item);
  return function (...args) {
    const call = args[at + 1] as ServerWritableStream<unknown, unknown>;
    return from(open(inputOf(args), args[at] as Principal, this.services)).pipe(
      mergeMap(
        (subscription) =>
          new Observable<never>((subscriber) => {
            streamToCall(call, subscription, message).then(
              () => subscriber.complete(),
              (e: unknown) => subscriber.error(e),
            );
            return () => subscription.close();
          }),
      ),
    );
  };
}

function metadataOf(headers: Record<string, string>): Metadata {
  const metadata = new Metadata();
  for (const [key, value] of Object.entries(headers)) metadata.set(key, value);
  return metadata;
}

/** The request message's class: the operation's REST parts in one, and `expectedVersion` for a conditional write (none: the request is not validated, like an empty message). */
function requestClassOf(op: Operation): Type | undefined {
  const parts = [op.input.path, op.input.query, op.input.body, op.conditional ? ExpectedVersionDto : undefined].filter((part): part is Type => part !== undefined);
  if (parts.length <= 1) return parts[0];
  const merged = IntersectionType(...(parts as [Type, Type]));
  Object.defineProperty(merged, 'name', { value: `${op.grpc.method}Request` });
  return merged;
}
