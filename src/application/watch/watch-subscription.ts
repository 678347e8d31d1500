import type { EventEnvelope } from '../../model/envelope';
import { FeedEvent, passesFilter, type FeedFilter, type FeedPage } from '../../store/event-feed-reads';
import { committedBefore, compareCursors, encodeCursor, type FeedCursor, type Present } from '../../store/watch-cursor';

/** Why a watch ended before its client left: the client resumes from its last cursor (on another replica, for a shutdown). */
export type WatchEndReason = 'SLOW_READER' | 'SHUTTING_DOWN';

export type WatchItem =
  | { kind: 'event'; event: FeedEvent; cursor: string }
  | { kind: 'end'; reason: WatchEndReason; message: string };

/**
 * Events a live watch holds for a client that reads slower than events commit. Past this the
 * watch ends (SLOW_READER) instead of growing: the client resumes from its last cursor and
 * catches up from the store, page by page, at its own pace.
 */
export const MAX_QUEUED_EVENTS = 1000;
/** Events per store read while a watch catches up (read only once the client took the previous page). */
export const CATCH_UP_PAGE = 500;

/** What a subscription needs of the process's feed (event-feed.ts). */
export interface FeedHub {
  /** Resolves once the feed polls; its head is then `head`. */
  started(): Promise<void>;
  readonly head: FeedCursor;
  /** From now on, `offer` every event after the head to this subscription. */
  join(subscription: WatchSubscription): void;
  leave(subscription: WatchSubscription): void;
  page(after: FeedCursor, filter: FeedFilter, limit: number, upTo: FeedCursor): Promise<FeedPage>;
}

/**
 * One open watch: the events after its cursor that pass its filter, each once, in the log's
 * (tx, position) order, which keeps each host's versions in order. It first catches up from
 * the store up to the feed's head, then joins the feed, which offers it every event after
 * that head as it reads them. Consumed as an async iterable by one adapter (SSE, gRPC).
 */
export class WatchSubscription implements AsyncIterable<WatchItem> {
  private live = false;
  private queue: WatchItem[] = [];
  private ended = false;
  private closed = false;
  private wakeConsumer?: () => void;
  /** A tenant's watch hands out tenant copies (tenant-event-copies.ts); the operator's the events as stored. */
  copy?: (envelope: EventEnvelope) => Promise<EventEnvelope>;

  private cursor: FeedCursor;
  /** Started from the present: events of transactions it saw committed are skipped (until the cursor passes its xmax). */
  private present?: Present;

  constructor(
    private readonly hub: FeedHub,
    readonly filter: FeedFilter,
    start: FeedCursor | Present,
  ) {
    if ('xmax' in start) {
      this.cursor = start.cursor;
      this.present = start;
    } else {
      this.cursor = start;
    }
  }

  /** The feed read `event` (after its head, in order): queued if it is new to this watch and passes the filter. */
  offer(event: FeedEvent): void {
    if (this.ended || this.closed || compareCursors(event.cursor, this.cursor) <= 0) return;
    this.cursor = event.cursor;
    if (!passesFilter(this.filter, event) || this.beforePresent(event)) return;
    if (this.queue.length >= MAX_QUEUED_EVENTS) {
      this.end('SLOW_READER', `the client read slower than events commit (${MAX_QUEUED_EVENTS} events waiting): resume from the last cursor received`);
      return;
    }
    this.push({ kind: 'event', event, cursor: encodeCursor(event.cursor) });
  }

  /** Ends the watch: what is queued is dropped (the client resumes from its last cursor), the end is the last item. */
  end(reason: WatchEndReason, message: string): void {
    if (this.ended || this.closed) return;
    this.ended = true;
    this.hub.leave(this);
    this.queue = [];
    this.push({ kind: 'end', reason, message });
  }

  /** The client left (or the adapter stopped): nothing more is read or queued. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.queue = [];
    this.hub.leave(this);
    this.wake();
  }

  async *[Symbol.asyncIterator](): AsyncIterator<WatchItem> {
    try {
      for (;;) {
        const item = this.queue.shift();
        if (item) {
          yield item.kind === 'event' && this.copy ? { ...item, event: await this.copied(item.event) } : item;
          if (item.kind === 'end') return;
        } else if (this.closed) {
          return;
        } else if (!this.live) {
          await this.catchUp();
        } else {
          await new Promise<void>((resolve) => (this.wakeConsumer = resolve));
        }
      }
    } finally {
      this.close();
    }
  }

  /** The tenant's copy of `event`: the feed's own (its JSON text as read) when redaction changes nothing. */
  private async copied(event: FeedEvent): Promise<FeedEvent> {
    const copy = await this.copy!(event.envelope);
    return copy === event.envelope ? event : FeedEvent.of(copy, event.cursor);
  }

  /** One page from the store up to the feed's head, or, at the head, joining the feed. */
  private async catchUp(): Promise<void> {
    await this.hub.started();
    // Compared and joined in one go (no await between): the feed cannot move its head in between.
    const head = this.hub.head;
    if (compareCursors(this.cursor, head) >= 0) {
      this.live = true;
      this.hub.join(this);
      return;
    }
    const page = await this.hub.page(this.cursor, this.filter, CATCH_UP_PAGE, head);
    if (this.closed || this.ended) return;
    // The page passed the filter in SQL already.
    for (const event of page.events) if (!this.beforePresent(event)) this.queue.push({ kind: 'event', event, cursor: encodeCursor(event.cursor) });
    this.cursor = page.events.length === CATCH_UP_PAGE ? page.events[page.events.length - 1].cursor : head;
  }

  /** The event had committed at the present this watch started from (none once the cursor passes its xmax). */
  private beforePresent(event: FeedEvent): boolean {
    if (this.present && event.cursor.tx >= this.present.xmax) this.present = undefined;
    return this.present !== undefined && committedBefore(this.present, event.cursor);
  }

  private push(item: WatchItem): void {
    this.queue.push(item);
    this.wake();
  }

  private wake(): void {
    const wake = this.wakeConsumer;
    this.wakeConsumer = undefined;
    wake?.();
  }
}
