import type { LoggerService } from '@nestjs/common';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { performance } from 'node:perf_hooks';
import { JsonLogger } from './logger';
import { openRequestContext, requestContextOf } from './request-context';

/** Probed every few seconds by every kubelet and Prometheus: logged at debug so they do not drown the rest. */
const QUIET_PATHS = new Set(['/healthz', '/readyz', '/metrics']);

/** Longer caller-supplied ids are cut: they end up in every log line and event of the request. */
const MAX_CORRELATION_ID = 128;

/**
 * Fastify hooks (register before the routes): open the request context (request-context.ts),
 * seeded with the caller's `x-correlation-id`, and write one access line when the response is
 * done or the client goes away: method, path, status, ms, plus whatever the guard and handlers
 * added to the context (tenant, host, command, the correlationId the adapter settled on). The
 * query string is left out: it is not needed to follow a request and may carry ids a tenant
 * would rather not have in shared logs.
 */
export function accessLog(fastify: FastifyInstance, logger: LoggerService): void {
  // Access lines are written at info and debug: below that (LOG_LEVEL=warn in production),
  // the request still gets its context, but no line is prepared for a logger that drops it.
  const lines = !(logger instanceof JsonLogger) || logger.isEnabled('info');
  const started = new WeakMap<FastifyRequest, number>();
  const written = new WeakSet<FastifyRequest>();

  fastify.addHook('onRequest', (req, _reply, done) => {
    openRequestContext(req, { correlationId: correlationIdFrom(req.headers['x-correlation-id']) });
    if (lines) started.set(req, performance.now());
    done();
  });
  if (!lines) return;

  const write = (req: FastifyRequest, status: number, aborted: boolean): void => {
    if (written.has(req)) return;
    written.add(req);
    const path = req.url.split('?')[0];
    const line = {
      msg: 'request',
      method: req.method,
      path,
      status,
      ms: Math.round((performance.now() - (started.get(req) ?? 0)) * 10) / 10,
      ...(aborted ? { aborted } : {}),
      ...requestContextOf(req),
    };
    if (QUIET_PATHS.has(path)) logger.debug?.(line, 'http');
    else logger.log(line, 'http');
  };
  fastify.addHook('onResponse', (req, reply, done) => {
    write(req, reply.statusCode, false);
    done();
  });
  // 499: the client closed the connection before the answer (nginx's convention).
  fastify.addHook('onRequestAbort', (req, done) => {
    write(req, 499, true);
    done();
  });
}

/** The caller's correlation id when it is a usable string. */
export function correlationIdFrom(header: unknown): string | undefined {
  const value = Array.isArray(header) ? header[0] : header;
  if (typeof value !== 'string') return undefined;
  const trimmed = value.trim().slice(0, MAX_CORRELATION_ID);
  return trimmed === '' ? undefined : trimmed;
}
