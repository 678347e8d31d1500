import { Module } from '@nestjs/common';
import { CqrsModule } from '@nestjs/cqrs';
import { EventFeedReads } from '../store/event-feed-reads';
import { FdVersions } from '../store/fd-versions';
import { CommandTargets } from './command-target';
import { CreateTenantHandler } from './create-tenant.handler';
import { FdPreconditions } from './fd-precondition';
import { FdLocations } from './fd-locations';
import { HostStates } from './host-states';
import { IdempotentAnswers } from './idempotent-answers';
import { GetFdHandler, ListFdsHandler } from './queries/fd-queries.handler';
import { GetFdVersionHandler } from './queries/fd-version.handler';
import { GetHardwareHandler } from './queries/get-hardware.handler';
import { GetHostHandler, ListHostsHandler } from './queries/host-queries.handler';
import { ListEventsHandler } from './queries/list-events.handler';
import { VerifyHostHandler } from './queries/verify-host.handler';
import { RunHostCommandHandler } from './run-host-command.handler';
import { TenantQuotas } from './tenant-quotas';
import { EventFeed } from './watch/event-feed';
import { WatchEventsHandler } from './watch/watch-events.handler';

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
    // Conditional writes (If-Match) and the watch.
    FdVersions,
    FdPreconditions,
    GetFdVersionHandler,
    EventFeedReads,
    EventFeed,
    WatchEventsHandler,
  ],
  // The migration process manager (migration/) runs host commands and reads states with these.
  exports: [HostStates, RunHostCommandHandler, FdLocations, TenantQuotas, IdempotentAnswers, EventFeed],
})
export class ApplicationModule {}
