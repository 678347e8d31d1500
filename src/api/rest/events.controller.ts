import { Controller, Get, Query } from '@nestjs/common';
import { QueryBus } from '@nestjs/cqrs';
import { ApiBearerAuth, ApiTags } from '@nestjs/swagger';
import { ListEventsQuery } from '../../application/messages';
import type { Principal } from '../../application/principal';
import { CurrentPrincipal } from '../../auth/current-principal.decorator';
import { ListEventsQueryDto } from '../dto/events.dto';

/** The audit log: {events: [envelope], nextPageToken}; a tenant sees only its own events. */
@ApiTags('events')
@ApiBearerAuth()
@Controller('v1/events')
export class EventsController {
  constructor(private readonly queryBus: QueryBus) {}

  @Get()
  listEvents(@Query() query: ListEventsQueryDto, @CurrentPrincipal() principal: Principal): Promise<unknown> {
    return this.queryBus.execute(new ListEventsQuery(principal, { ...query }));
  }
}
