import { Metadata, type ServerWritableStream } from '@grpc/grpc-js';
import type { WatchItem, WatchSubscription } from '../../application/watch/watch-subscription';
import { DomainError } from '../../model/errors';

/**
 * Writes a watch to a server-streaming call, each event shaped by `message`, waiting for the
 * call to drain (what a slow client does not take stays in the subscription, which bounds
 * it). The watch's end (the server ends it) is UNAVAILABLE with its reason: the client calls
 * again with the last cursor it received.
 */
export async function streamToCall(
  call: ServerWritableStream<unknown, unknown>,
  subscription: WatchSubscription,
  message: (item: Extract<WatchItem, { kind: 'event' }>) => unknown,
): Promise<void> {
  // The response headers say the watch is open (its start taken) before any event exists.
  call.sendMetadata(new Metadata());
  // Plain listeners, not events.once: the call also emits 'error' (the status Nest sends), which would reject those.
  const cancelled = new Promise<void>((resolve) => call.once('cancelled', resolve)).then(() => subscription.close());
  for await (const item of subscription) {
    if (item.kind === 'end') throw new DomainError('UNAVAILABLE', `the watch ended: ${item.message}`, { reason: item.reason });
    if (!call.write(message(item))) {
      await Promise.race([new Promise<void>((resolve) => call.once('drain', resolve)), cancelled]);
    }
  }
}
