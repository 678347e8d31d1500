import { QueryHandler, type IQueryHandler } from '@nestjs/cqrs';
import { DomainError } from '../../model/errors';
import { EventStore } from '../../store/event-store';
import type { EventPage } from '../../model/events';
import { ListEventsQuery } from '../messages';
import { tenantScopeOf } from '../principal';
import { TenantEventCopies } from '../tenant-event-copies';

/** The audit log; a tenant sees only the events of its own fds. */
@QueryHandler(ListEventsQuery)
export class ListEventsHandler implements IQueryHandler<ListEventsQuery, EventPage> {
  constructor(
    private readonly events: EventStore,
    private readonly tenantCopies: TenantEventCopies,
  ) {}

  async execute({ principal, filter }: ListEventsQuery): Promise<EventPage> {
    const since = filter.since === undefined ? undefined : new Date(filter.since);
    if (since && Number.isNaN(since.getTime())) {
      throw new DomainError('VALIDATION_FAILED', 'since must be an ISO time', { fields: [{ field: 'since', message: 'must be an ISO 8601 time' }] });
    }
    const tenantId = tenantScopeOf(principal);
    const page = await this.events.list({ ...filter, since, tenantId });
    return tenantId === undefined ? page : { ...page, events: await this.tenantCopies.of(page.events) };
  }
}
