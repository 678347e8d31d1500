import { Metadata, type ServerWritableStream } from '@grpc/grpc-js';
import { Controller } from '@nestjs/common';
import { QueryBus } from '@nestjs/cqrs';
import { GrpcMethod, Payload } from '@nestjs/microservices';
import { from, mergeMap, Observable } from 'rxjs';
import type { Principal } from '../../application/principal';
import { WatchEventsQuery } from '../../application/watch/watch-events.handler';
import type { WatchSubscription } from '../../application/watch/watch-subscription';
import { CurrentPrincipal } from '../../auth/current-principal.decorator';
import { DomainError } from '../../domain/errors';
import { WatchEventsQueryDto } from '../dto/events.dto';
import { GrpcCall } from './grpc-call.decorator';
import { eventMessage } from './grpc-responses';
import { IOASID_SERVICE } from './proto-path';

/**
 * ioasid.v1.IoasidService/WatchEvents, REST's GET /v1/events/watch: a stream of EventEnvelope
 * ({event, cursor}). Written straight to the call, waiting for it to drain (Nest's own
 * observable bridge would buffer without bound); the observable only says when it is over.
 */
@Controller()
export class WatchEventsGrpcController {
  constructor(private readonly queryBus: QueryBus) {}

  @GrpcMethod(IOASID_SERVICE, 'WatchEvents')
  watchEvents(
    @Payload() request: WatchEventsQueryDto,
    @CurrentPrincipal() principal: Principal,
    @GrpcCall() call: ServerWritableStream<unknown, unknown>,
  ): Observable<never> {
    const { after, ...filter } = request;
    const query = new WatchEventsQuery(principal, { ...filter, ...(after === undefined ? {} : { after: { cursor: after, field: 'after' } }) });
    return from(this.queryBus.execute<WatchEventsQuery, WatchSubscription>(query)).pipe(
      mergeMap(
        (subscription) =>
          new Observable<never>((subscriber) => {
            streamToCall(call, subscription).then(
              () => subscriber.complete(),
              (e: unknown) => subscriber.error(e),
            );
            return () => subscription.close();
          }),
      ),
    );
  }
}

async function streamToCall(call: ServerWritableStream<unknown, unknown>, subscription: WatchSubscription): Promise<void> {
  // The response headers say the watch is open (its start taken) before any event exists.
  call.sendMetadata(new Metadata());
  // Plain listeners, not events.once: the call also emits 'error' (the status Nest sends), which would reject those.
  const cancelled = new Promise<void>((resolve) => call.once('cancelled', resolve)).then(() => subscription.close());
  for await (const item of subscription) {
    if (item.kind === 'end') throw new DomainError('UNAVAILABLE', `the watch ended: ${item.message}`, { reason: item.reason });
    if (!call.write({ event: eventMessage(item.envelope), cursor: item.cursor })) {
      await Promise.race([new Promise<void>((resolve) => call.once('drain', resolve)), cancelled]);
    }
  }
}
