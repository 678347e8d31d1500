import { Body, Param, Query, Req, RequestMapping, RequestMethod, Res, type Type } from '@nestjs/common';
import { ApiBearerAuth } from '@nestjs/swagger';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { OutgoingHttpHeaders } from 'node:http';
import { OperatorOnly } from '../../auth/access.decorators';
import { CurrentPrincipal } from '../../auth/current-principal.decorator';
import type { Principal } from '../../application/principal';
import type { RequestMeta } from '../../application/request-meta';
import type { ApplicationServices } from '../operations/application-services';
import { HEADERS } from '../operations/headers';
import type { Execution, Operation } from '../operations/operation';
import { addHandler, operationsController, runOperation, type HandlerParameter } from '../operations/operation-handlers';
import { operationDocs } from './operation-docs';
import { streamSse } from './sse-stream';
import { WriteMeta } from './write-meta.decorator';

/**
 * The /v1 REST routes, one per row of the operation table: each validates its path, query and
 * body against the row's DTO classes (in that order, like every Nest handler), builds the
 * write's RequestMeta or takes the caller, runs the operation, and answers the row's success
 * status with the body (none for 204) and the headers it answers; a stream is answered as
 * Server-Sent Events once it is open.
 */
export function restController(operations: readonly Operation[]): Type {
  return operationsController('RestOperationsController', operations, [ApiBearerAuth()], addRoute);
}

type StreamOpener = Extract<Execution<unknown>, { kind: 'stream' }>['open'];
type Handler = (this: { services: ApplicationServices }, ...args: unknown[]) => Promise<void>;

function addRoute(controller: Type, op: Operation): void {
  const decorators = { path: Param(), query: Query(), body: Body() };
  const parts = (['path', 'query', 'body'] as const).flatMap((part): HandlerParameter[] => {
    const type = op.input[part];
    return type ? [[decorators[part], type]] : [];
  });
  const inputOf = (args: unknown[]): unknown => Object.assign({}, ...args.slice(0, parts.length));
  const execution = op.execution;
  const [handler, call]: [Handler, HandlerParameter[]] =
    execution.kind === 'stream'
      ? [streamHandler(execution.open, inputOf, parts.length), [[CurrentPrincipal(), Object], [Req(), Object]]]
      : [answerHandler(op, inputOf, parts.length), [[callOf(op), Object]]];
  const descriptor = addHandler(controller, op.id, handler, [...parts, ...call, [Res(), Object]]);
  const route = RequestMapping({ path: op.rest.path, method: RequestMethod[op.rest.method] });
  for (const decorate of [route, operationDocs(op), ...(op.operatorOnly ? [OperatorOnly()] : [])]) decorate(controller.prototype, op.id, descriptor);
}

function callOf(op: Operation): ParameterDecorator {
  return op.execution.kind === 'write' ? WriteMeta({ operation: op.id, idempotencyKey: op.execution.idempotencyKey, conditional: op.conditional }) : CurrentPrincipal();
}

/** A write or read: the row's status, the answer's headers, the body. */
function answerHandler(op: Operation, inputOf: (args: unknown[]) => unknown, at: number): Handler {
  return async function (...args) {
    const answer = await runOperation(op, inputOf(args), args[at] as RequestMeta | Principal, this.services);
    const reply = args[at + 1] as FastifyReply;
    if (answer.headers) void reply.headers(answer.headers);
    void reply.status(op.rest.status).send(answer.body ?? undefined);
  };
}

/** A stream: opened (or refused, as an ordinary JSON error) before the reply is taken over for Server-Sent Events. */
function streamHandler(open: StreamOpener, inputOf: (args: unknown[]) => unknown, at: number): Handler {
  return async function (...args) {
    const [principal, req, reply] = args.slice(at) as [Principal, FastifyRequest, FastifyReply];
    const lastEventId = req.headers[HEADERS.lastEventId.key];
    const subscription = await open(inputOf(args), principal, this.services, typeof lastEventId === 'string' && lastEventId !== '' ? lastEventId : undefined);
    const headers = reply.getHeaders();
    reply.hijack();
    await streamSse(reply.raw, subscription, headers as OutgoingHttpHeaders);
  };
}
