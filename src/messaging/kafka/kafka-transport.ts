import type { EventEnvelope } from '../../model/envelope';
import type { EventTransport } from '../transport';
import { createKafkaClient, requestTimeoutMs } from './kafka-client';
import type { KafkaHealth } from './kafka-health';
import { DEFAULT_GROUP_ID, type KafkaTransportOptions } from './kafka-options';
import { KafkaPublisher } from './kafka-publisher';
import { KafkaSubscriber } from './kafka-subscriber';

/**
 * The EventTransport over Kafka (docs/KAFKA.md). In `publish` mode (ROLE=api) it only
 * produces, in `consume` mode (ROLE=projector) it only joins the consumer group; the
 * half that a mode leaves out is never created, so it opens no connection.
 */
export class KafkaTransport implements EventTransport {
  private readonly publisher?: KafkaPublisher;
  private readonly subscriber?: KafkaSubscriber;

  constructor(private readonly options: KafkaTransportOptions) {
    const kafka = createKafkaClient(options);
    if (options.mode !== 'consume') {
      this.publisher = new KafkaPublisher(kafka, options.topic, requestTimeoutMs(options), options.backoff);
      this.publisher.start();
    }
    if (options.mode !== 'publish') {
      this.subscriber = new KafkaSubscriber(kafka, options.topic, {
        groupId: options.groupId ?? DEFAULT_GROUP_ID,
        maxEventsPerDelivery: options.maxEventsPerDelivery ?? 500,
        fetchMaxWaitMs: options.fetchMaxWaitMs ?? 100,
        sessionTimeoutMs: options.sessionTimeoutMs,
        heartbeatIntervalMs: options.heartbeatIntervalMs,
        backoff: options.backoff,
      });
    }
  }

  /** Resolves once every in-sync replica has the events (acks = all). */
  publish(events: EventEnvelope[]): Promise<void> {
    if (!this.publisher) return Promise.reject(new Error('this Kafka transport only consumes (ROLE=projector)'));
    return this.publisher.publish(events);
  }

  /** Resolves at once; the consumer joins the group in the background and retries until it can. */
  async subscribe(handler: (events: EventEnvelope[]) => Promise<void>): Promise<void> {
    if (!this.subscriber) throw new Error('this Kafka transport only publishes (ROLE=api)');
    this.subscriber.start(handler);
  }

  onPartitionsRevoked(listener: (owned: (hostId: string) => boolean) => void): void {
    this.subscriber?.onPartitionsRevoked(listener);
  }

  /** Ready when each half this mode uses works: the producer is connected and its last publish succeeded, the consumer is in its group and its fetches are answered. */
  health(): KafkaHealth {
    const producer = this.publisher?.health();
    const consumer = this.subscriber?.health();
    const ok = (!producer || (producer.connected && !producer.failing)) && (!consumer || (consumer.joined && !consumer.fetchStalled && !consumer.handlerFailing));
    return { ok, brokers: this.options.brokers, topic: this.options.topic, producer, consumer };
  }

  consumerLag(): number {
    return this.subscriber?.lag() ?? 0;
  }

  async close(): Promise<void> {
    await Promise.all([this.subscriber?.close(), this.publisher?.close()]);
  }
}
