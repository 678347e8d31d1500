import { Module, type DynamicModule, type INestApplicationContext } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { QueryBus } from '@nestjs/cqrs';
import { ApplicationModule } from '../../src/application/application.module';
import { HostCommandRunner } from '../../src/application/host-command-runner';
import { OPERATOR, type Principal } from '../../src/application/principal';
import type { Answer, RequestMeta } from '../../src/application/request-meta';
import { TenantCreator } from '../../src/application/tenant-creator';
import { APP_CONFIG, loadConfig, type AppConfig } from '../../src/config';
import type { HostCommand } from '../../src/model/commands';
import type { DeviceSpec } from '../../src/model/values';
import { ProjectionsModule } from '../../src/projections/projections.module';
import { StoreModule } from '../../src/store/store.module';
import type { TestStorage } from './test-storage';

@Module({})
class TestConfigModule {
  static forRoot(config: AppConfig): DynamicModule {
    return { module: TestConfigModule, global: true, providers: [{ provide: APP_CONFIG, useValue: config }], exports: [APP_CONFIG] };
  }
}

/** The store, the write and read path and the projector, without any API adapter: what the adapters' operations see. */
export interface ApplicationContext {
  app: INestApplicationContext;
  config: AppConfig;
  hostCommands: HostCommandRunner;
  tenants: TenantCreator;
  queries: QueryBus;
  close(): Promise<void>;
}

export async function startApplicationContext(storage: TestStorage, overrides: Partial<AppConfig> = {}): Promise<ApplicationContext> {
  const config: AppConfig = { ...loadConfig({}), databaseUrl: storage.databaseUrl, dataDir: storage.dataDir, ...overrides };
  @Module({ imports: [TestConfigModule.forRoot(config), StoreModule, ApplicationModule, ProjectionsModule.forRoot(config)] })
  class TestRootModule {}
  const app = await NestFactory.createApplicationContext(TestRootModule, { logger: ['error'] });
  return { app, config, hostCommands: app.get(HostCommandRunner), tenants: app.get(TenantCreator), queries: app.get(QueryBus), close: () => app.close() };
}

let requests = 0;

export function metaOf(principal: Principal, extra: Partial<RequestMeta> = {}): RequestMeta {
  const commandId = `req-${++requests}`;
  return { principal, commandId, correlationId: commandId, ...extra };
}

export const tenant = (tenantId: string): Principal => ({ kind: 'tenant', tenantId });

/** Sends a host command as an adapter would: as the fd's tenant when it names one, else as the operator. */
export async function run(ctx: ApplicationContext, command: HostCommand, options: { principal?: Principal; hostId?: string; meta?: Partial<RequestMeta> } = {}): Promise<Answer> {
  const principal = options.principal ?? OPERATOR;
  return { body: await ctx.hostCommands.run(command, metaOf(principal, options.meta), options.hostId) };
}

export async function createTenant(ctx: ApplicationContext, name: string): Promise<{ tenantId: string; token: string }> {
  return (await ctx.tenants.create(name, undefined, metaOf(OPERATOR))) as { tenantId: string; token: string };
}

export const VF: DeviceSpec = { rid: '0000:3b:00.0', kind: 'vf', pasidBits: 20 };
export const SIOV: DeviceSpec = { rid: '0000:5e:00.0', kind: 'siov', pasidBits: 20 };

export async function registerHost(ctx: ApplicationContext, hostId: string): Promise<void> {
  await run(ctx, { type: 'RegisterHost', hostId, pasidBits: 20, enqcmd: true, nestedPasidTable: true, devices: [VF, SIOV] }, { hostId });
}

/** An fd of `tenantId` on `hostId` in global mode with its split at `globalMin`; returns its id. */
export async function globalFd(ctx: ApplicationContext, hostId: string, tenantId: string, fdId: string, globalMin = 1024): Promise<string> {
  const as = { principal: tenant(tenantId) };
  await run(ctx, { type: 'CreateFd', fdId, tenantId, vmId: `vm-${fdId}`, actorTenantId: tenantId }, { ...as, hostId });
  await run(ctx, { type: 'SetHwidMode', fdId, mode: 'global', actorTenantId: tenantId }, as);
  await run(ctx, { type: 'SetGlobalMin', fdId, globalMin, actorTenantId: tenantId }, as);
  return fdId;
}
