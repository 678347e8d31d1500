import fastifyStatic from '@fastify/static';
import type { FastifyInstance, FastifyReply } from 'fastify';
import { existsSync } from 'node:fs';
import { join } from 'node:path';

/** The URL prefix of the web console. */
export const CONSOLE_PREFIX = '/ui/';

/**
 * Where `npm run build` puts the console (`vite build console` -> dist/console): beside
 * dist/src, in the repository and in the container image alike.
 */
export const CONSOLE_ROOT = join(__dirname, '..', '..', 'console');
const ASSETS = join('assets', '');

/**
 * The page may load and call only this origin: the console is built from the repository and
 * fetches nothing else at run time (no CDN, no fonts), and a page that cannot reach another
 * origin cannot leak its token there.
 */
const CONTENT_SECURITY_POLICY = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self'",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

function consoleHeaders(reply: FastifyReply, path: string): void {
  reply.header('content-security-policy', CONTENT_SECURITY_POLICY);
  reply.header('x-content-type-options', 'nosniff');
  reply.header('referrer-policy', 'no-referrer');
  // File names under assets/ carry their content hash; index.html names the current ones.
  reply.header('cache-control', path.includes(ASSETS) ? 'public, max-age=31536000, immutable' : 'no-cache');
}

/**
 * Serves the built console under /ui/ with no token (the page asks for one and sends it to
 * /v1 itself): its files, and index.html for any other path below /ui/ (the console's own
 * routes, e.g. /ui/hosts/{hostId}?version=N). `/` leads to the console. Without a built
 * console (a bare `tsc`), /ui/ answers 404 like any unknown path.
 */
export function serveConsole(fastify: FastifyInstance): void {
  if (!existsSync(join(CONSOLE_ROOT, 'index.html'))) return;
  fastify.register(async (scope) => {
    await scope.register(fastifyStatic, {
      root: CONSOLE_ROOT,
      prefix: CONSOLE_PREFIX,
      // One route per built file (the folder is fixed once built); other paths reach the fallback below.
      wildcard: false,
      cacheControl: false,
      setHeaders: consoleHeaders,
    });
    scope.get(`${CONSOLE_PREFIX}*`, (req, reply) => {
      if (req.url.startsWith(`${CONSOLE_PREFIX}assets/`)) return reply.callNotFound();
      return reply.sendFile('index.html');
    });
    scope.get('/', (_req, reply) => reply.redirect(CONSOLE_PREFIX));
  });
}
