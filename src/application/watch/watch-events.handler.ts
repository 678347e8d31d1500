import { QueryHandler, type IQueryHandler } from '@nestjs/cqrs';
import { DomainError } from '../../model/errors';
import { EventFeedReads, type FeedFilter } from '../../store/event-feed-reads';
import { decodeCursor, type FeedCursor, type Present } from '../../store/watch-cursor';
import { FdLocations } from '../fd-locations';
import { TenantEventCopies } from '../tenant-event-copies';
import { tenantScopeOf, type Principal } from '../principal';
import { EventFeed } from './event-feed';
import type { WatchSubscription } from './watch-subscription';

export interface WatchRequest {
  hostId?: string;
  fdId?: string;
  type?: string;
  /** With hostId: start right after this version of the host. */
  afterVersion?: number;
  /** A cursor received from a watch (SSE `id:`, gRPC `cursor`), and the field it came in (`after`, `Last-Event-ID`). */
  after?: { cursor: string; field: string };
}

/**
 * GET /v1/events/watch and gRPC WatchEvents: a WatchSubscription of the events after the
 * cursor (else after `afterVersion` of the host, else from now) that pass the filter; a
 * tenant's watch has only its own events, and an fd it cannot see is NOT_FOUND. Everything
 * that can be refused is refused here, before the adapter starts streaming.
 */
export class WatchEventsQuery {
  constructor(
    readonly principal: Principal,
    readonly request: WatchRequest,
  ) {}
}

@QueryHandler(WatchEventsQuery)
export class WatchEventsHandler implements IQueryHandler<WatchEventsQuery, WatchSubscription> {
  constructor(
    private readonly feed: EventFeed,
    private readonly reads: EventFeedReads,
    private readonly locations: FdLocations,
    private readonly tenantCopies: TenantEventCopies,
  ) {}

  async execute({ principal, request }: WatchEventsQuery): Promise<WatchSubscription> {
    const { hostId, fdId, type, afterVersion, after } = request;
    if (afterVersion !== undefined && hostId === undefined) {
      throw new DomainError('VALIDATION_FAILED', 'afterVersion needs hostId', { fields: [{ field: 'afterVersion', message: 'afterVersion is a version of the host named by hostId' }] });
    }
    const tenantId = tenantScopeOf(principal);
    const decoded = after === undefined ? undefined : decodeCursor(after.cursor, after.field);
    if (fdId !== undefined) await this.locations.locate(fdId, tenantId);
    const filter: FeedFilter = { hostId, fdId, type, afterVersion, tenantId };
    const subscription = this.feed.subscribe(filter, decoded ?? (await this.start(hostId, afterVersion)));
    if (tenantId !== undefined) subscription.copy = this.tenantCopies.copier();
    return subscription;
  }

  /** After `afterVersion` of the host; from the present when there is none (or that version is not committed yet). */
  private async start(hostId: string | undefined, afterVersion: number | undefined): Promise<FeedCursor | Present> {
    const afterIt = hostId === undefined || afterVersion === undefined ? undefined : await this.reads.afterVersion(hostId, afterVersion);
    return afterIt ?? this.reads.present();
  }
}
