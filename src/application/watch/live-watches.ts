import type { FeedEvent } from '../../store/event-feed-reads';
import type { WatchSubscription } from './watch-subscription';

/**
 * The feed's live watches, indexed by the host they name: an event is offered to the watches of
 * its host and to those that name none (an fd, which may migrate between hosts, a type, a
 * tenant, or everything), so that the cost of an event follows the watches that can want it,
 * not every watch open on the replica.
 */
export class LiveWatches {
  /** By the host a watch names; under `undefined`, the watches naming none. */
  private readonly byHost = new Map<string | undefined, Set<WatchSubscription>>();

  add(subscription: WatchSubscription): void {
    const hostId = subscription.filter.hostId;
    let watches = this.byHost.get(hostId);
    if (!watches) this.byHost.set(hostId, (watches = new Set()));
    watches.add(subscription);
  }

  delete(subscription: WatchSubscription): void {
    const hostId = subscription.filter.hostId;
    const watches = this.byHost.get(hostId);
    if (watches?.delete(subscription) && watches.size === 0) this.byHost.delete(hostId);
  }

  offer(event: FeedEvent): void {
    this.offerTo(event.hostId, event);
    this.offerTo(undefined, event);
  }

  private offerTo(hostId: string | undefined, event: FeedEvent): void {
    const watches = this.byHost.get(hostId);
    if (watches) for (const subscription of watches) subscription.offer(event);
  }
}
