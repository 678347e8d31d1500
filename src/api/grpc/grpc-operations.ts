import { Controller, Inject, type Type } from '@nestjs/common';
import { GrpcMethod, Payload } from '@nestjs/microservices';
import { ApiExcludeController, IntersectionType } from '@nestjs/swagger';
import { OperatorOnly } from '../../auth/access.decorators';
import { CurrentPrincipal } from '../../auth/current-principal.decorator';
import { ApplicationServices } from '../operations/application-services';
import type { Operation } from '../operations/operation';
import { GrpcWriteMeta } from './grpc-write-meta.decorator';
import { IOASID_SERVICE } from './proto-path';

const PARAMTYPES = 'design:paramtypes';

/**
 * ioasid.v1.IoasidService, one method per row of the operation table. The global pipe
 * validates the request message against the row's REST DTO classes (their intersection: gRPC
 * carries path, query and body in one message, so both transports accept exactly the same
 * values), the global guard authenticates, and errors leave through the shared exception
 * filter. The answer is REST's body (ioasid.v1.Empty when there is none), shaped by the row's
 * `grpc.message` where the proto carries JSON strings. Not part of the OpenAPI document.
 */
export function grpcController(operations: readonly Operation[]): Type {
  @ApiExcludeController()
  @Controller()
  class GrpcOperationsController {
    constructor(@Inject(ApplicationServices) readonly services: ApplicationServices) {}
  }
  for (const op of operations) addMethod(GrpcOperationsController, op);
  return GrpcOperationsController;
}

function addMethod(controller: Type, op: Operation): void {
  const proto = controller.prototype as Record<string, unknown>;
  const request = requestClassOf(op);
  const handler = async function (this: { services: ApplicationServices }, ...args: unknown[]): Promise<unknown> {
    const [input, call] = request ? args : [{}, args[0]];
    const body = op.execution.kind === 'write' ? await op.execution.run(input, call as never, this.services) : await op.execution.run(input, call as never, this.services);
    const message = body ?? {};
    return op.grpc.message ? op.grpc.message(message) : message;
  };
  Object.defineProperty(handler, 'name', { value: op.id });
  proto[op.id] = handler;

  if (request) Payload()(proto, op.id, 0);
  const index = request ? 1 : 0;
  const call = op.execution.kind === 'write' ? GrpcWriteMeta({ operation: op.id, idempotencyKey: op.execution.idempotencyKey }) : CurrentPrincipal();
  call(proto, op.id, index);
  Reflect.defineMetadata(PARAMTYPES, request ? [request, Object] : [Object], proto, op.id);

  const descriptor = Object.getOwnPropertyDescriptor(proto, op.id)!;
  GrpcMethod(IOASID_SERVICE, op.grpc.method)(proto, op.id, descriptor);
  if (op.operatorOnly) OperatorOnly()(proto, op.id, descriptor);
}

/** The request message's class: the operation's REST parts in one (none: the request is not validated, like an empty message). */
function requestClassOf(op: Operation): Type | undefined {
  const parts = [op.input.path, op.input.query, op.input.body].filter((part): part is Type => part !== undefined);
  if (parts.length <= 1) return parts[0];
  const merged = IntersectionType(...(parts as [Type, Type]));
  Object.defineProperty(merged, 'name', { value: `${op.grpc.method}Request` });
  return merged;
}
