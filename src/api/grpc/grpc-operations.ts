import type { Type } from '@nestjs/common';
import { GrpcMethod, Payload } from '@nestjs/microservices';
import { ApiExcludeController, IntersectionType } from '@nestjs/swagger';
import { OperatorOnly } from '../../auth/access.decorators';
import { CurrentPrincipal } from '../../auth/current-principal.decorator';
import type { Principal } from '../../application/principal';
import type { RequestMeta } from '../../application/request-meta';
import type { ApplicationServices } from '../operations/application-services';
import type { Operation } from '../operations/operation';
import { addHandler, operationsController, runOperation, type HandlerParameter } from '../operations/operation-handlers';
import { GrpcWriteMeta } from './grpc-write-meta.decorator';
import { IOASID_SERVICE } from './proto-path';

/**
 * ioasid.v1.IoasidService, one method per row of the operation table. The global pipe
 * validates the request message against the row's REST DTO classes (their intersection: gRPC
 * carries path, query and body in one message, so both transports accept exactly the same
 * values), the global guard authenticates, and errors leave through the shared exception
 * filter. The answer is REST's body (ioasid.v1.Empty when there is none), shaped by the row's
 * `grpc.message` where the proto carries JSON strings. Not part of the OpenAPI document.
 */
export function grpcController(operations: readonly Operation[]): Type {
  return operationsController('GrpcOperationsController', operations, [ApiExcludeController()], addMethod);
}

function addMethod(controller: Type, op: Operation): void {
  const request = requestClassOf(op);
  const payload: HandlerParameter[] = request ? [[Payload(), request]] : [];
  const call = op.execution.kind === 'write' ? GrpcWriteMeta({ operation: op.id, idempotencyKey: op.execution.idempotencyKey }) : CurrentPrincipal();
  const descriptor = addHandler(
    controller,
    op.id,
    async function (this: { services: ApplicationServices }, ...args: unknown[]): Promise<unknown> {
      const [input, resolved] = request ? args : [{}, args[0]];
      const message = (await runOperation(op, input, resolved as RequestMeta | Principal, this.services)) ?? {};
      return op.grpc.message ? op.grpc.message(message) : message;
    },
    [...payload, [call, Object]],
  );
  GrpcMethod(IOASID_SERVICE, op.grpc.method)(controller.prototype, op.id, descriptor);
  if (op.operatorOnly) OperatorOnly()(controller.prototype, op.id, descriptor);
}

/** The request message's class: the operation's REST parts in one (none: the request is not validated, like an empty message). */
function requestClassOf(op: Operation): Type | undefined {
  const parts = [op.input.path, op.input.query, op.input.body].filter((part): part is Type => part !== undefined);
  if (parts.length <= 1) return parts[0];
  const merged = IntersectionType(...(parts as [Type, Type]));
  Object.defineProperty(merged, 'name', { value: `${op.grpc.method}Request` });
  return merged;
}
