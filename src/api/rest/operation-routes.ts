import { Body, Param, Query, RequestMapping, RequestMethod, Res, type Type } from '@nestjs/common';
import { ApiBearerAuth } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { OperatorOnly } from '../../auth/access.decorators';
import { CurrentPrincipal } from '../../auth/current-principal.decorator';
import type { Principal } from '../../application/principal';
import type { RequestMeta } from '../../application/request-meta';
import type { ApplicationServices } from '../operations/application-services';
import type { Operation } from '../operations/operation';
import { addHandler, operationsController, runOperation, type HandlerParameter } from '../operations/operation-handlers';
import { operationDocs } from './operation-docs';
import { WriteMeta } from './write-meta.decorator';

/**
 * The /v1 REST routes, one per row of the operation table: each validates its path, query and
 * body against the row's DTO classes (in that order, like every Nest handler), builds the
 * write's RequestMeta or takes the caller, runs the operation, and answers the row's success
 * status with the body (none for 204).
 */
export function restController(operations: readonly Operation[]): Type {
  return operationsController('RestOperationsController', operations, [ApiBearerAuth()], addRoute);
}

function addRoute(controller: Type, op: Operation): void {
  const decorators = { path: Param(), query: Query(), body: Body() };
  const parts = (['path', 'query', 'body'] as const).flatMap((part): HandlerParameter[] => {
    const type = op.input[part];
    return type ? [[decorators[part], type]] : [];
  });
  const call = op.execution.kind === 'write' ? WriteMeta({ operation: op.id, idempotencyKey: op.execution.idempotencyKey }) : CurrentPrincipal();
  const descriptor = addHandler(
    controller,
    op.id,
    async function (this: { services: ApplicationServices }, ...args: unknown[]): Promise<void> {
      const input = Object.assign({}, ...args.slice(0, parts.length)) as unknown;
      const body = await runOperation(op, input, args[parts.length] as RequestMeta | Principal, this.services);
      void (args[parts.length + 1] as FastifyReply).status(op.rest.status).send(body ?? undefined);
    },
    [...parts, [call, Object], [Res(), Object]],
  );
  const route = RequestMapping({ path: op.rest.path, method: RequestMethod[op.rest.method] });
  for (const decorate of [route, operationDocs(op), ...(op.operatorOnly ? [OperatorOnly()] : [])]) decorate(controller.prototype, op.id, descriptor);
}
