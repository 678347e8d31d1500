import type { INestApplicationContext, LoggerService } from '@nestjs/common';
import type { Drainable } from './drain';

export interface GracefulShutdownOptions {
  logger: LoggerService;
  /** The servers that take requests (HTTP, gRPC): drained before any provider is torn down. */
  drain: Drainable[];
  /** Past this, open requests are dropped and the process exits 1 (keep it below terminationGracePeriodSeconds). */
  timeoutMs?: number;
  signals?: NodeJS.Signals[];
  exit?: (code: number) => void;
}

/** Below the pods' terminationGracePeriodSeconds minus their preStop wait (deploy/k8s). */
export const SHUTDOWN_DEADLINE_MS = 25_000;

let shuttingDown = false;

/** True once a shutdown signal arrived: /readyz answers 503 so no new traffic is routed here. */
export function isShuttingDown(): boolean {
  return shuttingDown;
}

/**
 * Replaces Nest's `enableShutdownHooks`, whose order (provider destroy hooks first, HTTP
 * server closed afterwards) would close the database under requests still running. Here,
 * on SIGTERM/SIGINT:
 * 1. the servers stop taking requests and the in-flight ones finish (drain);
 * 2. `app.close()` runs the provider hooks: `onModuleDestroy` (outbox relay: stop polling,
 *    publish what is committed; projector: finish the batch, commit offsets),
 *    `beforeApplicationShutdown` (transports disconnect), `onApplicationShutdown` (database);
 * 3. the process exits 0, or 1 if a step failed or the deadline passed.
 * Returns the shutdown routine itself (tests and bench scripts call it directly).
 */
export function installGracefulShutdown(
  app: INestApplicationContext,
  options: GracefulShutdownOptions,
): (signal: string) => Promise<number> {
  const { logger, drain, timeoutMs = SHUTDOWN_DEADLINE_MS, signals = ['SIGTERM', 'SIGINT'], exit = (code) => process.exit(code) } = options;
  let running: Promise<number> | undefined;

  const shutdown = (signal: string): Promise<number> => {
    if (running) {
      logger.warn({ msg: 'shutdown already in progress', signal }, 'shutdown');
      return running;
    }
    shuttingDown = true;
    running = runShutdown(app, signal, logger, drain, timeoutMs);
    return running;
  };
  for (const signal of signals) process.on(signal, (s: NodeJS.Signals) => void shutdown(s).then(exit));
  return shutdown;
}

async function runShutdown(
  app: INestApplicationContext,
  signal: string,
  logger: LoggerService,
  drain: Drainable[],
  timeoutMs: number,
): Promise<number> {
  const started = Date.now();
  logger.log({ msg: 'shutdown started', signal }, 'shutdown');
  let timer: NodeJS.Timeout | undefined;
  let timedOut = false;
  const deadline = new Promise<number>((resolve) => {
    timer = setTimeout(() => {
      timedOut = true;
      logger.error({ msg: 'shutdown deadline passed, dropping open requests', timeoutMs }, 'shutdown');
      for (const d of drain) d.forceClose();
      resolve(1);
    }, timeoutMs);
    timer.unref();
  });
  const orderly = (async (): Promise<number> => {
    try {
      await Promise.all(drain.map((d) => d.drain()));
      // Past the deadline the process is on its way out: tearing providers down now would race the exit.
      if (timedOut) return 1;
      logger.log({ msg: 'requests drained', servers: drain.map((d) => d.name) }, 'shutdown');
      await app.close();
      logger.log({ msg: 'shutdown complete', ms: Date.now() - started }, 'shutdown');
      return 0;
    } catch (err) {
      logger.error({ msg: 'shutdown failed', err }, 'shutdown');
      return 1;
    }
  })();
  try {
    return await Promise.race([orderly, deadline]);
  } finally {
    clearTimeout(timer);
  }
}
