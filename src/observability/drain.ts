import type { Server as GrpcServer } from '@grpc/grpc-js';
import type { Server as HttpServer, ServerResponse } from 'node:http';

/** A server that can stop taking requests and let the ones it holds finish. */
export interface Drainable {
  name: string;
  /** Stops accepting, resolves once every in-flight request has been answered. */
  drain(): Promise<void>;
  /** Drops whatever is still open (the shutdown deadline passed). */
  forceClose(): void;
}

/** How often idle keep-alive connections are swept while draining. */
const IDLE_SWEEP_MS = 100;

/**
 * Call right after the server is created. `server.close()` alone stops listening but keeps
 * serving keep-alive connections for as long as clients reuse them; draining therefore
 * answers every request with `Connection: close` and sweeps connections that went idle, so
 * `close` completes once the in-flight requests are answered.
 */
export function httpDrain(server: HttpServer): Drainable {
  const inFlight = new Set<ServerResponse>();
  let draining = false;
  server.on('request', (_req, res: ServerResponse) => {
    if (draining) lastOnConnection(res);
    inFlight.add(res);
    res.once('close', () => inFlight.delete(res));
  });
  return {
    name: 'http',
    drain: () =>
      new Promise<void>((resolve) => {
        draining = true;
        for (const res of inFlight) lastOnConnection(res);
        const sweep = setInterval(() => server.closeIdleConnections(), IDLE_SWEEP_MS);
        // Called with ERR_SERVER_NOT_RUNNING when it was never listening or already closed: drained all the same.
        server.close(() => {
          clearInterval(sweep);
          resolve();
        });
      }),
    forceClose: () => server.closeAllConnections(),
  };
}

/** grpc-js: `tryShutdown` refuses new calls and waits for the running ones. */
export function grpcDrain(server: GrpcServer): Drainable {
  return {
    name: 'grpc',
    drain: () => new Promise<void>((resolve) => server.tryShutdown(() => resolve())),
    forceClose: () => server.forceShutdown(),
  };
}

/** Ends every open watch (SSE, gRPC stream) so that the servers' drains can complete. */
export function watchDrain(watches: { endAll(): void }): Drainable {
  return {
    name: 'watches',
    drain: async () => watches.endAll(),
    forceClose: () => watches.endAll(),
  };
}

function lastOnConnection(res: ServerResponse): void {
  if (!res.headersSent) res.setHeader('Connection', 'close');
}
