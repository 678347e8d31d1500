import { createParamDecorator, type ExecutionContext } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import type { RequestMeta } from '../../application/request-meta';
import { principalOf } from '../../auth/principal-context';
import { requestContextOf } from '../../observability/request-context';
import { ifMatchVersion } from '../conditional';
import { buildRequestMeta } from '../request-meta';
import { requestIdsOf } from './request-ids';

/**
 * The RequestMeta of a REST write. The fingerprint covers the handler's name, path
 * parameters, query and body; `Idempotency-Key` counts on POST, PUT and DELETE only
 * (API.md "Idempotency"), so a GET that is a command (get hwid) ignores it.
 */
export const WriteMeta = createParamDecorator((_data: unknown, context: ExecutionContext): RequestMeta => {
  const http = context.switchToHttp();
  const req = http.getRequest<FastifyRequest>();
  return buildRequestMeta({
    principal: principalOf(context),
    operation: context.getHandler().name,
    payload: { params: req.params, query: req.query, body: req.body ?? null },
    ...requestIdsOf(req),
    idempotencyKey: req.method === 'GET' ? undefined : req.headers['idempotency-key'],
    expectedFdVersion: req.method === 'GET' ? undefined : ifMatchVersion(req.headers['if-match']),
    context: requestContextOf(req),
  });
});
