import { Logger } from '@nestjs/common';
import type { Batch, Consumer, EachBatchPayload, Kafka, KafkaMessage } from 'kafkajs';
import type { EventEnvelope } from '../../model/envelope';
import { backoffDelay, DEFAULT_BACKOFF, pause, type BackoffOptions } from './backoff';
import { CoalescingQueue } from './coalescing-queue';
import { fromKafkaMessage, MalformedEventMessage } from './envelope-codec';
import { partitionOfHost } from './host-partition';
import { kafkaError, type KafkaConsumerHealth, type KafkaError } from './kafka-health';
import { OffsetCommitter } from './offset-committer';

const HANDLER_WARN_INTERVAL_MS = 30_000;
/** Handled offsets are committed this often (and when the consumer stops). */
const COMMIT_INTERVAL_MS = 500;
/** Fetched events waiting for the handler, at most; fetching pauses beyond. */
const MAX_BUFFERED_EVENTS = 10_000;
const BUFFER_FULL_POLL_MS = 20;
/**
 * A member fetches every fetchMaxWaitMs when idle: no fetch answered for this long (while it
 * has room to fetch) means the cluster has stopped answering, although the member has not
 * noticed yet that it left the group (that takes a session timeout or more).
 */
const FETCH_STALL_MS = 10_000;

export type EventHandler = (events: EventEnvelope[]) => Promise<void>;
export type RevokedListener = (owned: (hostId: string) => boolean) => void;

export interface KafkaSubscriberOptions {
  groupId: string;
  maxEventsPerDelivery: number;
  fetchMaxWaitMs: number;
  sessionTimeoutMs?: number;
  heartbeatIntervalMs?: number;
  backoff?: BackoffOptions;
}

/**
 * The consuming half of the Kafka transport: one member of the projectors' consumer group.
 *
 * Fetching and handling overlap: each fetched batch joins a queue and the consumer fetches
 * on, while the handler takes everything queued at once (one projection transaction for
 * many events), one call at a time, in fetch order, retried until it succeeds. So a
 * partition's events, hence a host's, reach the handler in order. An offset is committed
 * only once the handler resolved for its event: a crash or a rebalance redelivers from an
 * event not yet handled, or shortly before it (at least once). A supervisor recreates the
 * consumer, with backoff, whenever kafkajs gives up, for as long as the transport is open.
 */
export class KafkaSubscriber {
  private readonly log = new Logger('KafkaSubscriber');
  private readonly stopping = new AbortController();
  private readonly backoff: BackoffOptions;
  private supervisor?: Promise<void>;
  private deliveries?: CoalescingQueue<EventEnvelope>;
  private buffered = 0;
  private joined = false;
  private assignedPartitions: number[] = [];
  private handlerFailing = false;
  private lastHandlerWarnAt = 0;
  private lastError?: KafkaError;
  private lastFetchAt = 0;
  /** Per assigned partition: its high watermark as of the last fetch, and the next offset the handler has yet to take. */
  private readonly positions = new Map<number, { highWatermark: number; next: number }>();
  private readonly revokedListeners: RevokedListener[] = [];

  constructor(
    private readonly kafka: Kafka,
    private readonly topic: string,
    private readonly options: KafkaSubscriberOptions,
  ) {
    this.backoff = options.backoff ?? DEFAULT_BACKOFF;
  }

  /** Starts consuming in the background and returns at once: the cluster may be down at start. */
  start(handler: EventHandler): void {
    if (this.supervisor) throw new Error('the Kafka transport already has a subscriber');
    this.deliveries = new CoalescingQueue<EventEnvelope>((events) => this.handleUntilDone(handler, events), () => 1, this.options.maxEventsPerDelivery);
    this.supervisor = this.supervise();
  }

  health(): KafkaConsumerHealth {
    return {
      groupId: this.options.groupId,
      joined: this.joined,
      fetchStalled: this.joined && this.buffered < MAX_BUFFERED_EVENTS && Date.now() - this.lastFetchAt > FETCH_STALL_MS,
      assignedPartitions: this.assignedPartitions,
      handlerFailing: this.handlerFailing,
      lag: this.lag(),
      lastError: this.lastError,
    };
  }

  /**
   * Events of the assigned partitions not handled yet, up to their high watermarks as of the
   * last fetch: kept in memory, so asking costs nothing, however many hosts there are.
   */
  lag(): number {
    let lag = 0;
    for (const { highWatermark, next } of this.positions.values()) lag += Math.max(0, highWatermark - next);
    return lag;
  }

  /** After each rebalance that took partitions away: whether a host's partition is still assigned here. */
  onPartitionsRevoked(listener: RevokedListener): void {
    this.revokedListeners.push(listener);
  }

  async close(): Promise<void> {
    this.stopping.abort();
    await this.supervisor;
  }

  private async supervise(): Promise<void> {
    for (let attempt = 0; !this.stopping.signal.aborted; attempt++) {
      const consumer = this.createConsumer();
      const gaveUp = new Promise<void>((resolve) =>
        consumer.on(consumer.events.CRASH, ({ payload }) => {
          this.lastError = kafkaError(payload.error);
          if (!payload.restart) resolve();
        }),
      );
      const stopped = new Promise<void>((resolve) => this.stopping.signal.addEventListener('abort', () => resolve(), { once: true }));
      const offsets = new OffsetCommitter(consumer, this.topic, COMMIT_INTERVAL_MS, (e) => (this.lastError = kafkaError(e)));
      consumer.on(consumer.events.GROUP_JOIN, () => offsets.keepOnly(this.assignedPartitions));
      try {
        await consumer.connect();
        await consumer.subscribe({ topics: [this.topic], fromBeginning: true });
        await consumer.run({
          autoCommit: false,
          eachBatchAutoResolve: false,
          eachBatch: (payload) => this.enqueueBatch(payload, offsets),
        });
        attempt = 0;
        await Promise.race([gaveUp, stopped]);
      } catch (e) {
        this.lastError = kafkaError(e);
      }
      await consumer.stop().catch(() => undefined);
      // What was fetched is handled (or abandoned, when closing) and committed before leaving the group.
      await this.drained();
      await offsets.stop();
      this.joined = false;
      this.assignedPartitions = [];
      this.positions.clear();
      await consumer.disconnect().catch(() => undefined);
      if (!this.stopping.signal.aborted) await pause(backoffDelay(attempt, this.backoff), this.stopping.signal);
    }
  }

  private createConsumer(): Consumer {
    const consumer = this.kafka.consumer({
      groupId: this.options.groupId,
      maxWaitTimeInMs: this.options.fetchMaxWaitMs,
      sessionTimeout: this.options.sessionTimeoutMs,
      heartbeatInterval: this.options.heartbeatIntervalMs,
      allowAutoTopicCreation: true,
      // Restart after every retriable failure; the supervisor handles the others.
      retry: { restartOnFailure: async () => true },
    });
    consumer.on(consumer.events.GROUP_JOIN, ({ payload }) => {
      const before = this.assignedPartitions;
      this.joined = true;
      this.lastFetchAt = Date.now();
      this.assignedPartitions = (payload.memberAssignment[this.topic] ?? []).slice().sort((a, b) => a - b);
      for (const partition of this.positions.keys()) if (!this.assignedPartitions.includes(partition)) this.positions.delete(partition);
      this.lastError = undefined;
      if (before.some((p) => !this.assignedPartitions.includes(p))) void this.revoked(this.assignedPartitions);
    });
    consumer.on(consumer.events.FETCH, () => {
      this.lastFetchAt = Date.now();
    });
    consumer.on(consumer.events.REBALANCING, () => {
      this.joined = false;
    });
    return consumer;
  }

  /**
   * Queues the batch for the handler and lets the consumer fetch on; once the handler took
   * the batch, its offsets may be committed. Fetching waits while the queue is full.
   */
  private async enqueueBatch(payload: EachBatchPayload, offsets: OffsetCommitter): Promise<void> {
    const { batch, resolveOffset, heartbeat, isRunning, isStale } = payload;
    const owned = () => isRunning() && !isStale() && !this.stopping.signal.aborted;
    while (this.buffered >= MAX_BUFFERED_EVENTS && owned()) {
      await pause(BUFFER_FULL_POLL_MS, this.stopping.signal);
      await heartbeat();
    }
    if (!owned() || batch.messages.length === 0) return;
    const events = this.decode(batch.messages, batch);
    const last = batch.messages[batch.messages.length - 1].offset;
    const { partition } = batch;
    const position = this.positions.get(partition) ?? { highWatermark: 0, next: Number(batch.messages[0].offset) };
    position.highWatermark = Number(batch.highWatermark);
    this.positions.set(partition, position);
    this.buffered += events.length;
    this.deliveries!.push(events).then(
      () => {
        this.buffered -= events.length;
        if (!this.assignedPartitions.includes(partition)) return;
        offsets.handled(partition, last);
        position.next = Math.max(position.next, Number(last) + 1);
      },
      () => {
        this.buffered -= events.length;
      },
    );
    // Moves the fetch position only: what is committed is what the handler took.
    resolveOffset(last);
    await heartbeat();
  }

  /** Tells the listeners which hosts stay here, once the topic's partition count is known. */
  private async revoked(assigned: readonly number[]): Promise<void> {
    if (this.revokedListeners.length === 0) return;
    const admin = this.kafka.admin();
    try {
      await admin.connect();
      const { topics } = await admin.fetchTopicMetadata({ topics: [this.topic] });
      const count = topics[0]?.partitions.length ?? 0;
      if (count === 0) return;
      const owned = (hostId: string) => assigned.includes(partitionOfHost(this.topic, hostId, count));
      for (const listener of this.revokedListeners) listener(owned);
    } catch (e) {
      // Only memory is at stake: the revoked hosts stay cached until evicted.
      this.lastError = kafkaError(e);
    } finally {
      await admin.disconnect().catch(() => undefined);
    }
  }

  /** Resolves when no fetched event waits for the handler any more. */
  private async drained(): Promise<void> {
    while (this.buffered > 0) await pause(BUFFER_FULL_POLL_MS);
  }

  /**
   * Calls the handler until it succeeds (the store or the projection may be down for a
   * while): later events must not overtake these. Gives up only when the transport closes;
   * the events are then redelivered to whoever consumes next, from the committed offsets.
   */
  private async handleUntilDone(handler: EventHandler, events: EventEnvelope[]): Promise<void> {
    for (let attempt = 0; ; attempt++) {
      if (this.stopping.signal.aborted) throw new Error('the Kafka transport is closed');
      try {
        if (events.length > 0) await handler(events);
        this.handlerFailing = false;
        return;
      } catch (e) {
        this.lastError = kafkaError(e);
        // At most once per window: a database outage would otherwise log every retry.
        if (Date.now() - this.lastHandlerWarnAt > HANDLER_WARN_INTERVAL_MS) {
          this.lastHandlerWarnAt = Date.now();
          this.log.warn(`event handler failed, retrying with backoff until it succeeds: ${this.lastError.message}`);
        }
        this.handlerFailing = true;
      }
      await pause(backoffDelay(attempt, this.backoff), this.stopping.signal);
    }
  }

  /**
   * A message that is not an event envelope cannot ever be handled: it is logged and passed
   * over. No event is lost by that, as the projector reads a version gap back from the store.
   */
  private decode(messages: KafkaMessage[], batch: Batch): EventEnvelope[] {
    const events: EventEnvelope[] = [];
    for (const message of messages) {
      try {
        events.push(fromKafkaMessage(message));
      } catch (e) {
        if (!(e instanceof MalformedEventMessage)) throw e;
        this.log.warn(`skipping a message of ${batch.topic}[${batch.partition}]: ${e.message}`);
      }
    }
    return events;
  }
}
