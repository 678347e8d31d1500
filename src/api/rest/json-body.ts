import type { NextFunction, Request, Response } from 'express';
import { validationFailed } from '../validation/validation-failed';

/** Requests larger than this are refused with 413 before any parsing. */
export const BODY_LIMIT = '256kb';

/**
 * Deeper JSON than any request of this API needs (its bodies nest three levels). Refused before
 * parsing: code that walks a parsed body recursively (the idempotency fingerprint, validation,
 * logs) would overflow the stack on thousands of levels and answer 500.
 */
export const MAX_JSON_DEPTH = 32;

/** The JSON parser's `verify` hook: refuses a body nested deeper than MAX_JSON_DEPTH, in one pass over its bytes. */
export function refuseDeepJson(_req: unknown, _res: unknown, body: Buffer): void {
  let depth = 0;
  let inString = false;
  let escaped = false;
  for (const byte of body) {
    if (inString) {
      if (escaped) escaped = false;
      else if (byte === 0x5c) escaped = true;
      else if (byte === 0x22) inString = false;
    } else if (byte === 0x22) inString = true;
    else if (byte === 0x5b || byte === 0x7b) {
      if (++depth > MAX_JSON_DEPTH) {
        throw validationFailed([{ field: 'body', message: `JSON nested deeper than ${MAX_JSON_DEPTH} levels` }], 'the request body is nested too deeply');
      }
    } else if (byte === 0x5d || byte === 0x7d) depth--;
  }
}

/**
 * Express middleware after the JSON parser: a body that is not JSON would otherwise be
 * ignored and the request judged on an empty body, so it is refused as such.
 */
export function requireJsonBody(req: Request, _res: Response, next: NextFunction): void {
  if (hasBody(req) && !req.is(['application/json', '+json'])) {
    next(validationFailed([{ field: 'Content-Type', message: 'the body must be application/json' }], 'the request body must be JSON'));
    return;
  }
  next();
}

function hasBody(req: Request): boolean {
  const length = req.headers['content-length'];
  return req.headers['transfer-encoding'] !== undefined || (length !== undefined && length !== '0');
}
