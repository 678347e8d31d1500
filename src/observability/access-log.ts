import type { LoggerService } from '@nestjs/common';
import type { NextFunction, Request, Response } from 'express';
import { performance } from 'node:perf_hooks';
import { JsonLogger } from './logger';
import { currentContext, runWithContext } from './request-context';

/** Probed every few seconds by every kubelet and Prometheus: logged at debug so they do not drown the rest. */
const QUIET_PATHS = new Set(['/healthz', '/readyz', '/metrics']);

/** Longer caller-supplied ids are cut: they end up in every log line and event of the request. */
const MAX_CORRELATION_ID = 128;

/**
 * Express middleware (register with `app.use` before the routes): opens the request
 * context, seeded with the caller's `x-correlation-id`, and writes one access line when
 * the response is finished or the client goes away: method, path, status, ms, plus
 * whatever the guard and handlers added to the context (tenant, host, command, the
 * correlationId the adapter settled on). The query string is left out: it is not needed
 * to follow a request and may carry ids a tenant would rather not have in shared logs.
 */
export function accessLog(logger: LoggerService): (req: Request, res: Response, next: NextFunction) => void {
  return (req, res, next) => {
    const initial = { correlationId: correlationIdFrom(req.headers['x-correlation-id']) };
    // Access lines are written at info and debug: below that (LOG_LEVEL=warn in production),
    // the request still gets its context, but no line is prepared for a logger that drops it.
    if (logger instanceof JsonLogger && !logger.isEnabled('info')) {
      runWithContext(initial, next);
      return;
    }
    const started = performance.now();
    runWithContext(initial, () => {
      // The live object the request runs in: complete (tenant, host, ...) by the time the response ends.
      const context = currentContext() ?? {};
      let written = false;
      const write = (): void => {
        if (written) return;
        written = true;
        const path = (req.originalUrl ?? req.url).split('?')[0];
        const line = {
          msg: 'request',
          method: req.method,
          path,
          status: res.statusCode,
          ms: Math.round((performance.now() - started) * 10) / 10,
          ...(res.writableFinished ? {} : { aborted: true }),
        };
        runWithContext(context, () => {
          if (QUIET_PATHS.has(path)) logger.debug?.(line, 'http');
          else logger.log(line, 'http');
        });
      };
      res.once('finish', write);
      res.once('close', write);
      next();
    });
  };
}

/** The caller's correlation id when it is a usable string. */
export function correlationIdFrom(header: unknown): string | undefined {
  const value = Array.isArray(header) ? header[0] : header;
  if (typeof value !== 'string') return undefined;
  const trimmed = value.trim().slice(0, MAX_CORRELATION_ID);
  return trimmed === '' ? undefined : trimmed;
}
