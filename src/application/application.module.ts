import { Module } from '@nestjs/common';
import { CqrsModule } from '@nestjs/cqrs';
import { CommandTargets } from './command-target';
import { CreateTenantHandler } from './create-tenant.handler';
import { FdLocations } from './fd-locations';
import { HostStates } from './host-states';
import { IdempotentAnswers } from './idempotent-answers';
import { GetFdHandler, ListFdsHandler } from './queries/fd-queries.handler';
import { GetHardwareHandler } from './queries/get-hardware.handler';
import { GetHostHandler, ListHostsHandler } from './queries/host-queries.handler';
import { ListEventsHandler } from './queries/list-events.handler';
import { VerifyHostHandler } from './queries/verify-host.handler';
import { RunHostCommandHandler } from './run-host-command.handler';
import { TenantEventCopies } from './tenant-event-copies';
import { TenantQuotas } from './tenant-quotas';

/** The CQRS handlers behind the API adapters; needs StoreModule (global) and APP_CONFIG. */
@Module({
  imports: [CqrsModule.forRoot()],
  providers: [
    CommandTargets,
    FdLocations,
    HostStates,
    IdempotentAnswers,
    TenantQuotas,
    RunHostCommandHandler,
    CreateTenantHandler,
    ListHostsHandler,
    GetHostHandler,
    GetFdHandler,
    ListFdsHandler,
    GetHardwareHandler,
    VerifyHostHandler,
    ListEventsHandler,
    TenantEventCopies,
  ],
  // The migration process manager (migration/) runs host commands and reads states with these.
  exports: [HostStates, RunHostCommandHandler, FdLocations, TenantQuotas, IdempotentAnswers, TenantEventCopies],
})
export class ApplicationModule {}
