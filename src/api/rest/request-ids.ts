import { randomUUID } from 'node:crypto';
import type { NextFunction, Request, Response } from 'express';
import { correlationIdFrom } from '../../observability/access-log';
import { setContext } from '../../observability/request-context';

export const CORRELATION_HEADER = 'x-correlation-id';

/** The ids of one REST request, kept in `res.locals` for the handlers. */
export interface RequestIds {
  /** Unique per request: the commandId of every event it causes. */
  commandId: string;
  /** The caller's `x-correlation-id`, else the commandId; echoed in the response. */
  correlationId: string;
}

/** Express middleware (after the access log, before the routes): gives every request its ids and answers with the correlation id. */
export function requestIds(req: Request, res: Response, next: NextFunction): void {
  const commandId = randomUUID();
  const correlationId = correlationIdFrom(req.headers[CORRELATION_HEADER]) ?? commandId;
  res.locals.ids = { commandId, correlationId } satisfies RequestIds;
  res.setHeader(CORRELATION_HEADER, correlationId);
  setContext({ correlationId });
  next();
}

export function requestIdsOf(res: Response): RequestIds {
  return res.locals.ids as RequestIds;
}
