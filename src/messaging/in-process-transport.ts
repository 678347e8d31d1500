import { Logger } from '@nestjs/common';
import { setTimeout as sleep } from 'node:timers/promises';
import type { EventEnvelope } from '../model/envelope';
import type { EventTransport } from './transport';

/** Events handed to a subscriber at once, at most (batches are not split below one publish). */
const MAX_DELIVERY = 1000;
const RETRY_INITIAL_MS = 100;
const RETRY_MAX_MS = 5000;

/**
 * The transport when KAFKA_BROKERS is unset: publish queues the events in memory for each
 * subscriber and resolves; each subscriber gets them in publish order, one delivery at a
 * time, and a delivery whose handler fails is retried (with backoff) before any later one.
 * Nothing survives a restart: the projector catches up from the store when it starts.
 */
export class InProcessTransport implements EventTransport {
  private readonly subscribers: InProcessSubscriber[] = [];
  private closed = false;

  async publish(events: EventEnvelope[]): Promise<void> {
    if (this.closed) throw new Error('the in-process transport is closed');
    for (const subscriber of this.subscribers) subscriber.enqueue(events);
  }

  async subscribe(handler: (events: EventEnvelope[]) => Promise<void>): Promise<void> {
    if (this.closed) throw new Error('the in-process transport is closed');
    this.subscribers.push(new InProcessSubscriber(handler));
  }

  consumerLag(): number {
    return this.subscribers.reduce((n, s) => n + s.queued(), 0);
  }

  /** Stops delivering; waits for the delivery in progress. */
  async close(): Promise<void> {
    this.closed = true;
    await Promise.all(this.subscribers.map((s) => s.stop()));
  }
}

class InProcessSubscriber {
  private readonly logger = new Logger(InProcessTransport.name);
  private readonly queue: EventEnvelope[][] = [];
  private readonly stopping = new AbortController();
  private running?: Promise<void>;

  constructor(private readonly handler: (events: EventEnvelope[]) => Promise<void>) {}

  enqueue(events: EventEnvelope[]): void {
    if (this.stopping.signal.aborted || events.length === 0) return;
    this.queue.push(events);
    this.running ??= this.deliverAll().finally(() => (this.running = undefined));
  }

  /** Events published and not yet handled. */
  queued(): number {
    return this.queue.reduce((n, events) => n + events.length, 0);
  }

  async stop(): Promise<void> {
    this.stopping.abort();
    await this.running;
  }

  private async deliverAll(): Promise<void> {
    let failures = 0;
    while (this.queue.length && !this.stopping.signal.aborted) {
      const delivery = this.nextDelivery();
      try {
        await this.handler(delivery.flat());
        this.queue.splice(0, delivery.length);
        failures = 0;
      } catch (e) {
        if (failures++ === 0) this.logger.warn(`event handler failed, retrying: ${e instanceof Error ? e.message : String(e)}`);
        const delay = Math.min(RETRY_MAX_MS, RETRY_INITIAL_MS * 2 ** Math.min(failures, 10));
        await sleep(delay, undefined, { signal: this.stopping.signal }).catch(() => undefined);
      }
    }
  }

  /** The oldest publishes, up to MAX_DELIVERY events (at least one publish). */
  private nextDelivery(): EventEnvelope[][] {
    const delivery: EventEnvelope[][] = [];
    let size = 0;
    for (const events of this.queue) {
      if (delivery.length && size + events.length > MAX_DELIVERY) break;
      delivery.push(events);
      size += events.length;
    }
    return delivery;
  }
}
