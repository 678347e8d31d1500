import { createParamDecorator, type ExecutionContext } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import type { RequestMeta } from '../../application/request-meta';
import { principalOf } from '../../auth/principal-context';
import { requestContextOf } from '../../observability/request-context';
import { ifMatchVersion } from '../conditional';
import type { CallMetaOptions } from '../operations/call-meta';
import { IDEMPOTENCY_KEY_HEADER, IF_MATCH_HEADER } from '../operations/headers';
import { buildRequestMeta } from '../request-meta';
import { requestIdsOf } from './request-ids';

/**
 * The RequestMeta of a REST write. The fingerprint covers the operation, path parameters,
 * query, body and If-Match; `Idempotency-Key` counts unless the operation ignores it (get hwid, a GET);
 * `If-Match` conditions the fd writes on the fd's version.
 */
export const WriteMeta = createParamDecorator((options: CallMetaOptions, context: ExecutionContext): RequestMeta => {
  const req = context.switchToHttp().getRequest<FastifyRequest>();
  const expectedFdVersion = options.conditional ? ifMatchVersion(req.headers[IF_MATCH_HEADER]) : undefined;
  return buildRequestMeta({
    principal: principalOf(context),
    operation: options.operation,
    // If-Match is part of the request, as gRPC's expectedVersion is of its message; absent, the fingerprint is as it always was.
    payload: { params: req.params, query: req.query, body: req.body ?? null, ...(expectedFdVersion === undefined ? {} : { ifMatch: expectedFdVersion }) },
    ...requestIdsOf(req),
    idempotencyKey: options.idempotencyKey ? req.headers[IDEMPOTENCY_KEY_HEADER] : undefined,
    expectedFdVersion,
    context: requestContextOf(req),
  });
});
