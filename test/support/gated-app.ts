import {
  Body,
  Controller,
  Get,
  Injectable,
  Logger,
  Module,
  Param,
  Post,
  Req,
  type BeforeApplicationShutdown,
  type INestApplication,
  type LoggerService,
  type OnApplicationShutdown,
  type OnModuleDestroy,
} from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import type { AddressInfo } from 'node:net';
import { accessLog } from '../../src/observability/access-log';
import { addToContext, requestContextOf } from '../../src/observability/request-context';

/** A request held open until the test lets it go: "in flight" on demand. */
export class Gate {
  private open!: () => void;
  private entered!: () => void;
  readonly opened = new Promise<void>((r) => (this.open = r));
  /** Resolves once the handler is running. */
  readonly reached = new Promise<void>((r) => (this.entered = r));
  inFlight = 0;
  enter(): void {
    this.inFlight++;
    this.entered();
  }
  release(): void {
    this.open();
  }
}

/** What the provider hooks saw: their order and how many requests were still running. */
export class HookLog {
  readonly calls: Array<{ hook: string; inFlight: number }> = [];
}

@Injectable()
class Lifecycle implements OnModuleDestroy, BeforeApplicationShutdown, OnApplicationShutdown {
  constructor(
    private readonly gate: Gate,
    private readonly hooks: HookLog,
  ) {}
  onModuleDestroy() {
    this.hooks.calls.push({ hook: 'onModuleDestroy', inFlight: this.gate.inFlight });
  }
  beforeApplicationShutdown() {
    this.hooks.calls.push({ hook: 'beforeApplicationShutdown', inFlight: this.gate.inFlight });
  }
  onApplicationShutdown() {
    this.hooks.calls.push({ hook: 'onApplicationShutdown', inFlight: this.gate.inFlight });
  }
}

@Controller()
class GatedController {
  private readonly logger = new Logger('Handler');
  constructor(private readonly gate: Gate) {}

  @Get('quick')
  quick() {
    return { ok: true };
  }

  @Get('gated')
  async gated() {
    this.gate.enter();
    await this.gate.opened;
    this.gate.inFlight--;
    return { ok: true };
  }

  @Get('healthz')
  healthz() {
    return { status: 'ok' };
  }

  /**
   * Adds to the context like the guard and command handler do, logs a line about the request,
   * and starts work that logs after the answer (as a group commit or the relay would).
   */
  @Post('hosts/:hostId/things')
  async thing(@Req() req: object, @Param('hostId') hostId: string, @Body() body: { tenant: string }) {
    await new Promise((r) => setImmediate(r));
    const context = requestContextOf(req);
    addToContext(context, { tenant: body.tenant, host: hostId, command: 'MakeThing' });
    this.logger.log({ msg: 'making a thing', ...context });
    setTimeout(() => this.logger.log('work the request started'), 5);
    return { hostId };
  }
}

/** A real Nest HTTP app (Fastify, as the product) on 127.0.0.1:<random> with the access log in front of the routes. */
export async function startGatedApp(logger: LoggerService): Promise<{
  app: INestApplication;
  url: string;
  gate: Gate;
  hooks: HookLog;
}> {
  const gate = new Gate();
  const hooks = new HookLog();
  @Module({
    controllers: [GatedController],
    providers: [Lifecycle, { provide: Gate, useValue: gate }, { provide: HookLog, useValue: hooks }],
  })
  class GatedModule {}

  const app = await NestFactory.create<NestFastifyApplication>(GatedModule, new FastifyAdapter(), { logger });
  accessLog(app.getHttpAdapter().getInstance(), logger);
  await app.listen(0, '127.0.0.1');
  const { port } = app.getHttpServer().address() as AddressInfo;
  return { app, url: `http://127.0.0.1:${port}`, gate, hooks };
}
