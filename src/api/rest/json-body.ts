import type { FastifyInstance } from 'fastify';
import { bodyNotJson, validationFailed } from '../validation/validation-failed';

/** Requests larger than this are refused with 413 before any parsing. */
export const BODY_LIMIT_BYTES = 256 * 1024;

/**
 * Deeper JSON than any request of this API needs (its bodies nest three levels). Refused before
 * parsing: code that walks a parsed body recursively (the idempotency fingerprint, validation,
 * logs) would overflow the stack on thousands of levels and answer 500.
 */
export const MAX_JSON_DEPTH = 32;

/** JSON media types, with or without parameters: `application/json` and any `application/...+json`. */
const JSON_TYPES = /^application\/([\w.!#$%&'*^`|~-]+\+)?json\s*(;|$)/i;

/**
 * The only bodies the API reads: JSON, at most BODY_LIMIT_BYTES, nested at most MAX_JSON_DEPTH.
 * Fastify's own parsers are removed, so a body of any other type is refused before a handler
 * would judge the request on an empty body.
 */
export function acceptJsonBodiesOnly(fastify: FastifyInstance): void {
  fastify.removeAllContentTypeParsers();
  fastify.addContentTypeParser(JSON_TYPES, { parseAs: 'buffer', bodyLimit: BODY_LIMIT_BYTES }, (_req, body: Buffer, done) => {
    try {
      done(null, parseJson(body));
    } catch (e) {
      done(e as Error, undefined);
    }
  });
  fastify.addContentTypeParser('*', (_req, _payload, done) => done(bodyNotJson(), undefined));
}

/** An empty body is no body; anything else must be one JSON value. */
function parseJson(body: Buffer): unknown {
  if (body.length === 0) return undefined;
  refuseDeepJson(body);
  try {
    return JSON.parse(body.toString('utf8'));
  } catch (e) {
    throw validationFailed([{ field: 'body', message: (e as Error).message }], 'the request body is not valid JSON');
  }
}

/** Refuses a body nested deeper than MAX_JSON_DEPTH, in one pass over its bytes. */
function refuseDeepJson(body: Buffer): void {
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
