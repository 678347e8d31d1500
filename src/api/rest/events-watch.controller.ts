import { Controller, Get, Query, Req, Res } from '@nestjs/common';
import { QueryBus } from '@nestjs/cqrs';
import { ApiBearerAuth, ApiHeader, ApiProduces, ApiTags } from '@nestjs/swagger';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Principal } from '../../application/principal';
import { WatchEventsQuery, type WatchRequest } from '../../application/watch/watch-events.handler';
import type { WatchSubscription } from '../../application/watch/watch-subscription';
import { CurrentPrincipal } from '../../auth/current-principal.decorator';
import { WatchEventsQueryDto } from '../dto/events.dto';
import { streamSse } from './sse-stream';

/** The watch: the events as they commit, as Server-Sent Events, resumable by cursor. */
@ApiTags('events')
@ApiBearerAuth()
@Controller('v1/events')
export class EventsWatchController {
  constructor(private readonly queryBus: QueryBus) {}

  @Get('watch')
  @ApiProduces('text/event-stream')
  @ApiHeader({ name: 'Last-Event-ID', required: false, description: 'resume right after this cursor (the `after` query parameter wins)' })
  async watchEvents(
    @Query() query: WatchEventsQueryDto,
    @CurrentPrincipal() principal: Principal,
    @Req() req: FastifyRequest,
    @Res() res: FastifyReply,
  ): Promise<void> {
    const { after, ...filter } = query;
    const lastEventId = req.headers['last-event-id'];
    const request: WatchRequest = { ...filter };
    if (after !== undefined) request.after = { cursor: after, field: 'after' };
    else if (typeof lastEventId === 'string' && lastEventId !== '') request.after = { cursor: lastEventId, field: 'Last-Event-ID' };
    // Refusals (a bad cursor, another tenant's fd) are ordinary JSON errors: nothing is streamed yet.
    const subscription = await this.queryBus.execute<WatchEventsQuery, WatchSubscription>(new WatchEventsQuery(principal, request));
    res.hijack();
    await streamSse(res.raw, subscription);
  }
}
