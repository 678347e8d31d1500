import { startApp } from './app.factory';
import { loadConfig } from './config';
import { createLogger } from './observability/logger';
import { installGracefulShutdown } from './observability/shutdown';

async function main(): Promise<void> {
  const config = loadConfig();
  if (config.operatorTokenGenerated) {
    // The one place the token is ever written, straight to stdout: the logger redacts it everywhere.
    process.stdout.write(`Operator token (generated; set OPERATOR_TOKEN to choose one): ${config.operatorToken}\n`);
  }
  const logger = createLogger(config);
  const started = await startApp(config, logger);
  installGracefulShutdown(started.app, { logger, drain: started.drain });
  logger.log({ msg: 'serving', role: config.role, http: started.httpUrl, grpc: started.grpcUrl }, 'main');
}

main().catch((err: unknown) => {
  createLogger({ operatorToken: process.env.OPERATOR_TOKEN ?? '' }).fatal({ msg: 'failed to start', err }, 'main');
  process.exit(1);
});
