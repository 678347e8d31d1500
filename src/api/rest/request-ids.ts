import { randomUUID } from 'node:crypto';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { correlationIdFrom } from '../../observability/access-log';
import { addToContext, requestContextOf } from '../../observability/request-context';
import { CORRELATION_HEADER } from '../operations/headers';

/** The ids of one REST request, for the handlers. */
export interface RequestIds {
  /** Unique per request: the commandId of every event it causes. */
  commandId: string;
  /** The caller's `x-correlation-id`, else the commandId; echoed in the response. */
  correlationId: string;
}

const idsOf = new WeakMap<object, RequestIds>();

/** Fastify hook (after the access log's, before the routes): gives every request its ids and answers with the correlation id. */
export function requestIds(fastify: FastifyInstance): void {
  fastify.addHook('onRequest', (req, reply, done) => {
    const commandId = randomUUID();
    const correlationId = correlationIdFrom(req.headers[CORRELATION_HEADER]) ?? commandId;
    idsOf.set(req, { commandId, correlationId });
    void reply.header(CORRELATION_HEADER, correlationId);
    addToContext(requestContextOf(req), { correlationId });
    done();
  });
}

export function requestIdsOf(req: FastifyRequest): RequestIds {
  return idsOf.get(req)!;
}
