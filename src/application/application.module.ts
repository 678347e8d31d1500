import { Module } from '@nestjs/common';
import { CqrsModule } from '@nestjs/cqrs';
import { EventFeedReads } from '../store/event-feed-reads';
import { FdVersions } from '../store/fd-versions';
import { CommandTargets } from './command-target';
import { FdPreconditions } from './fd-precondition';
import { FdLocations } from './fd-locations';
import { HostCommandRunner } from './host-command-runner';
import { HostStates } from './host-states';
import { IdempotentAnswers } from './idempotent-answers';
import { GetFdHandler, ListFdsHandler } from './queries/fd-queries.handler';
import { GetFdVersionHandler } from './queries/fd-version.handler';
import { GetHardwareHandler } from './queries/get-hardware.handler';
import { GetHostHandler, ListHostsHandler } from './queries/host-queries.handler';
import { ListEventsHandler } from './queries/list-events.handler';
import { VerifyHostHandler } from './queries/verify-host.handler';
import { WhoAmIHandler } from './queries/whoami.handler';
import { TenantCreator } from './tenant-creator';
import { TenantEventCopies } from './tenant-event-copies';
import { TenantQuotas } from './tenant-quotas';
import { EventFeed } from './watch/event-feed';
import { WatchEventsHandler } from './watch/watch-events.handler';

/** The write runners and the query handlers behind the API adapters; needs StoreModule (global) and APP_CONFIG. */
@Module({
  imports: [CqrsModule.forRoot()],
  providers: [
    CommandTargets,
    FdLocations,
    HostStates,
    IdempotentAnswers,
    TenantQuotas,
    HostCommandRunner,
    TenantCreator,
    ListHostsHandler,
    GetHostHandler,
    GetFdHandler,
    ListFdsHandler,
    GetHardwareHandler,
    VerifyHostHandler,
    ListEventsHandler,
    WhoAmIHandler,
    // Conditional writes (If-Match) and the watch.
    FdVersions,
    FdPreconditions,
    GetFdVersionHandler,
    EventFeedReads,
    EventFeed,
    WatchEventsHandler,
    TenantEventCopies,
  ],
  // The API's operations run writes with the runners; the migration process (migration/) also reads states with these; shutdown ends the watches (EventFeed).
  exports: [HostStates, HostCommandRunner, TenantCreator, FdLocations, TenantQuotas, IdempotentAnswers, EventFeed, TenantEventCopies],
})
export class ApplicationModule {}
