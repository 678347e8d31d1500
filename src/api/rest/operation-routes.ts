import { Body, Controller, Inject, Param, Query, RequestMethod, Res, type Type } from '@nestjs/common';
import { RequestMapping } from '@nestjs/common';
import { ApiBearerAuth } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { OperatorOnly } from '../../auth/access.decorators';
import { CurrentPrincipal } from '../../auth/current-principal.decorator';
import { ApplicationServices } from '../operations/application-services';
import type { Operation } from '../operations/operation';
import { operationDocs } from './operation-docs';
import { WriteMeta } from './write-meta.decorator';

const PARAMTYPES = 'design:paramtypes';

/**
 * The /v1 REST routes, one per row of the operation table: each validates its path, query and
 * body against the row's DTO classes (in that order, like every Nest handler), builds the
 * write's RequestMeta or takes the caller, runs the operation, and answers the row's success
 * status with the body (none for 204).
 */
export function restController(operations: readonly Operation[]): Type {
  @ApiBearerAuth()
  @Controller()
  class RestOperationsController {
    constructor(@Inject(ApplicationServices) readonly services: ApplicationServices) {}
  }
  for (const op of operations) addRoute(RestOperationsController, op);
  return RestOperationsController;
}

function addRoute(controller: Type, op: Operation): void {
  const proto = controller.prototype as Record<string, unknown>;
  const parts = (['path', 'query', 'body'] as const).filter((part) => op.input[part] !== undefined);
  const handler = async function (this: { services: ApplicationServices }, ...args: unknown[]): Promise<void> {
    const input = Object.assign({}, ...args.slice(0, parts.length)) as Record<string, unknown>;
    const call = args[parts.length];
    const res = args[parts.length + 1] as FastifyReply;
    const body = op.execution.kind === 'write' ? await op.execution.run(input, call as never, this.services) : await op.execution.run(input, call as never, this.services);
    void res.status(op.rest.status).send(body ?? undefined);
  };
  Object.defineProperty(handler, 'name', { value: op.id });
  proto[op.id] = handler;

  const decorators = { path: Param(), query: Query(), body: Body() };
  parts.forEach((part, index) => decorators[part](proto, op.id, index));
  const call = op.execution.kind === 'write' ? WriteMeta({ operation: op.id, idempotencyKey: op.execution.idempotencyKey }) : CurrentPrincipal();
  call(proto, op.id, parts.length);
  Res()(proto, op.id, parts.length + 1);
  Reflect.defineMetadata(PARAMTYPES, [...parts.map((part) => op.input[part]), Object, Object], proto, op.id);

  const descriptor = Object.getOwnPropertyDescriptor(proto, op.id)!;
  const method = RequestMapping({ path: op.rest.path, method: RequestMethod[op.rest.method] });
  for (const decorate of [method, operationDocs(op), ...(op.operatorOnly ? [OperatorOnly()] : [])]) decorate(proto, op.id, descriptor);
}
