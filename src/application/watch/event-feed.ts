import { Injectable, Logger, type OnModuleDestroy } from '@nestjs/common';
import { EventFeedReads, type FeedFilter, type FeedPage } from '../../store/event-feed-reads';
import { EventStore } from '../../store/event-store';
import { compareCursors, LOG_START, type FeedCursor, type Present } from '../../store/watch-cursor';
import { LiveWatches } from './live-watches';
import { WatchSubscription, type FeedHub } from './watch-subscription';

/** Events per poll of the whole log. */
const LIVE_PAGE = 500;
/**
 * How often the feed polls while a watch is open: the bound on the delay of another replica's
 * commits (this process's own commits wake it at once).
 */
export const WATCH_POLL_MS = 100;
/**
 * The least time from the start of one poll to the next. An idle feed polls as soon as this
 * process commits; a busy one polls at this pace, so that each poll reads a batch of events and
 * each watch writes what it gained in one go: the feed's cost follows time, not commits.
 */
const MIN_POLL_GAP_MS = 50;
/** After a failed poll (the store is away), before the next. */
const RETRY_AFTER_FAILURE_MS = 1000;

/**
 * The process's one reader of the event log for every open watch (REST SSE and gRPC alike):
 * while any watch is open it reads, in (tx, position) order and below the high-water mark of
 * positions known to be committed (EventFeedReads), every event after its head, and offers each
 * to the live subscriptions that can want it (LiveWatches), which filter and queue it. One
 * query per poll whatever the number of watches; a watch behind the head catches up from the
 * store on its own first. Polls every WATCH_POLL_MS, and when this process commits, but never
 * sooner than MIN_POLL_GAP_MS after the previous poll; no LISTEN/NOTIFY, so it works on any
 * connection pooler and on the embedded database's single connection.
 */
@Injectable()
export class EventFeed implements FeedHub, OnModuleDestroy {
  private readonly logger = new Logger(EventFeed.name);
  private readonly open = new Set<WatchSubscription>();
  private readonly live = new LiveWatches();
  private current: FeedCursor = LOG_START;
  private starting?: Promise<void>;
  private stopped = false;
  private lastPoll = 0;
  /** A commit since the last poll began: what it wrote may be after that poll's snapshot. */
  private committedSincePoll = false;
  private endNap?: () => void;
  private readonly unsubscribe: () => void;

  constructor(
    private readonly reads: EventFeedReads,
    events: EventStore,
  ) {
    this.unsubscribe = events.onCommit(() => this.wake());
  }

  /** A watch from `start` (a cursor, exclusive, or the present) of the events passing `filter`. */
  subscribe(filter: FeedFilter, start: FeedCursor | Present): WatchSubscription {
    const subscription = new WatchSubscription(this, filter, start);
    if (this.stopped) subscription.end('SHUTTING_DOWN', 'the server is shutting down: resume on another replica');
    else this.open.add(subscription);
    return subscription;
  }

  get head(): FeedCursor {
    return this.current;
  }

  /** Starts polling (from the present) if no watch was open. */
  started(): Promise<void> {
    this.starting ??= this.start();
    return this.starting;
  }

  join(subscription: WatchSubscription): void {
    if (this.open.has(subscription)) this.live.add(subscription);
  }

  leave(subscription: WatchSubscription): void {
    this.open.delete(subscription);
    this.live.delete(subscription);
  }

  page(after: FeedCursor, filter: FeedFilter, limit: number, upTo: FeedCursor): Promise<FeedPage> {
    return this.reads.page(after, filter, limit, upTo);
  }

  /** How many watches are open (metrics, tests). */
  get openWatches(): number {
    return this.open.size;
  }

  /** Ends every open watch (graceful shutdown: their clients resume on another replica) and refuses new ones. */
  endAll(): void {
    this.stopped = true;
    for (const subscription of [...this.open]) subscription.end('SHUTTING_DOWN', 'the server is shutting down: resume on another replica');
    this.wake();
  }

  onModuleDestroy(): void {
    this.endAll();
    this.unsubscribe();
  }

  private async start(): Promise<void> {
    try {
      this.current = (await this.reads.present()).cursor;
    } catch (e) {
      this.starting = undefined;
      throw e;
    }
    void this.run();
  }

  private async run(): Promise<void> {
    while (this.open.size > 0 && !this.stopped) {
      let page: FeedPage;
      this.lastPoll = Date.now();
      this.committedSincePoll = false;
      try {
        page = await this.reads.page(this.current, {}, LIVE_PAGE);
      } catch (e) {
        this.logger.warn(`watch feed: reading the event log failed, retrying: ${e instanceof Error ? e.message : String(e)}`);
        await this.nap(RETRY_AFTER_FAILURE_MS);
        continue;
      }
      for (const event of page.events) {
        this.live.offer(event);
        this.current = event.cursor;
      }
      if (page.events.length === LIVE_PAGE) continue;
      if (compareCursors(page.highWater, this.current) > 0) this.current = page.highWater;
      // Events held below an older transaction still running: look again as soon as the pace allows.
      if (!page.held) await this.nap(WATCH_POLL_MS);
      await this.pace();
    }
    // The next watch starts the feed again, from the present.
    this.starting = undefined;
  }

  /** Sleeps `ms`, or less: until this process commits, at once if it committed since the poll began. */
  private nap(ms: number): Promise<void> {
    if (this.committedSincePoll) return Promise.resolve();
    return new Promise((resolve) => {
      const end = () => {
        clearTimeout(timer);
        this.endNap = undefined;
        resolve();
      };
      const timer = setTimeout(end, ms);
      this.endNap = end;
    });
  }

  /** Waits out the rest of MIN_POLL_GAP_MS since the last poll began; a commit does not cut it short. */
  private pace(): Promise<void> {
    const rest = this.lastPoll + MIN_POLL_GAP_MS - Date.now();
    return rest > 0 && !this.stopped ? new Promise((resolve) => setTimeout(resolve, rest)) : Promise.resolve();
  }

  private wake(): void {
    this.committedSincePoll = true;
    this.endNap?.();
  }
}
