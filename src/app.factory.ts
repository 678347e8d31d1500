import type { LoggerService } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import type { AddressInfo } from 'node:net';
import { connectGrpc } from './api/grpc/connect-grpc';
import { clientErrors } from './api/rest/client-errors';
import { frameworkErrors } from './api/rest/framework-errors';
import { BODY_LIMIT_BYTES, acceptJsonBodiesOnly } from './api/rest/json-body';
import { setupOpenApi } from './api/rest/openapi';
import { requestIds } from './api/rest/request-ids';
import { AppModule } from './app.module';
import { serveConsole } from './console/serve-console';
import type { AppConfig } from './config';
import { accessLog } from './observability/access-log';
import { EventFeed } from './application/watch/event-feed';
import { grpcDrain, httpDrain, watchDrain, type Drainable } from './observability/drain';
import { createLogger } from './observability/logger';

export interface StartedApp {
  app: NestFastifyApplication;
  /** Where REST answers, on loopback (the server itself listens on every interface). */
  httpUrl: string;
  /** Where gRPC answers (`127.0.0.1:port`, for grpc-js clients); absent when ROLE=projector. */
  grpcUrl?: string;
  /** The servers to drain on shutdown, before the providers go (observability/shutdown.ts). */
  drain: Drainable[];
  /** Stops serving and releases everything (database, transports); for tests and benches. */
  close(): Promise<void>;
}

/** The application, configured but not listening: request hooks (context, access log, ids), JSON-only bodies with their limit, OpenAPI and the web console. */
export async function createApp(config: AppConfig, logger: LoggerService = createLogger(config)): Promise<NestFastifyApplication> {
  const adapter = new FastifyAdapter({
    bodyLimit: BODY_LIMIT_BYTES,
    // As lenient with paths as the API has always been: `/v1/fds/` is `/v1/fds`, and a long id
    // reaches validation (a 400 naming the field) instead of being an unknown route.
    routerOptions: { ignoreTrailingSlash: true, maxParamLength: 1024 },
    frameworkErrors,
    clientErrorHandler: clientErrors,
  });
  const app = await NestFactory.create<NestFastifyApplication>(AppModule.forRoot(config), adapter, { logger, bodyParser: false });
  const fastify = app.getHttpAdapter().getInstance();
  accessLog(fastify, logger);
  requestIds(fastify);
  acceptJsonBodiesOnly(fastify);
  if (config.role !== 'projector') {
    setupOpenApi(app);
    serveConsole(fastify);
  }
  return app;
}

/** Creates the application and listens on config.port and, unless ROLE=projector, config.grpcPort (0: a free port). */
export async function startApp(config: AppConfig, logger?: LoggerService): Promise<StartedApp> {
  const app = await createApp(config, logger);
  const grpc = config.role === 'projector' ? undefined : connectGrpc(app, config.grpcPort);
  // Open watches end first (their clients resume elsewhere): a stream would otherwise hold its server open to the deadline.
  const drain = [watchDrain(app.get(EventFeed)), httpDrain(app.getHttpServer())];
  await app.listen(config.port);
  // After listen: the app is initialized (database open) before the first gRPC call can arrive.
  if (grpc) {
    await app.startAllMicroservices();
    drain.push(grpcDrain(grpc.unwrap()));
  }
  const { port } = app.getHttpServer().address() as AddressInfo;
  return {
    app,
    httpUrl: `http://127.0.0.1:${port}`,
    ...(grpc ? { grpcUrl: `127.0.0.1:${grpc.boundPort}` } : {}),
    drain,
    close: async () => {
      await Promise.all(drain.map((d) => d.drain()));
      await app.close();
    },
  };
}
