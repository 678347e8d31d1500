import { Partitioners, type Kafka, type Message, type Producer } from 'kafkajs';
import type { EventEnvelope } from '../../model/envelope';
import { backoffDelay, DEFAULT_BACKOFF, pause, type BackoffOptions } from './backoff';
import { toKafkaMessage } from './envelope-codec';
import { kafkaError, type KafkaError, type KafkaProducerHealth } from './kafka-health';
import { CoalescingQueue, countWithin } from './coalescing-queue';

/** Half of Kafka's default message.max.bytes (the largest record batch it takes): room for record overhead. */
const MAX_REQUEST_BYTES = 512 * 1024;

/** Publish refused because the producer could not reach the cluster; the caller keeps the events and retries. */
export class KafkaUnavailableError extends Error {}

/**
 * The producing half of the Kafka transport. Not idempotent (the idempotent producer needs
 * a controller that the test cluster does not report), so order across retries is kept by
 * one request in flight (per broker, and publishes are coalesced into one request at a
 * time); duplicates a retry may cause are dropped by consumers by (hostId, version).
 */
export class KafkaPublisher {
  private readonly producer: Producer;
  private readonly stopping = new AbortController();
  private connected = false;
  private connecting?: Promise<void>;
  private failing = false;
  private lastPublishAt?: string;
  private lastError?: KafkaError;
  /**
   * One produce request at a time, carrying every publish that waited for it: the relay
   * publishes all hosts with pending events at once, and coalesced that is one request per
   * broker rather than one per host. Its age shows a frozen cluster before kafkajs gives up.
   */
  private readonly queue = new CoalescingQueue<Message>((messages) => this.sendInRequests(messages), messageSize, MAX_REQUEST_BYTES);

  constructor(
    kafka: Kafka,
    private readonly topic: string,
    /** A publish unanswered for this long makes the producer count as failing. */
    private readonly stallAfterMs: number,
    private readonly backoff: BackoffOptions = DEFAULT_BACKOFF,
  ) {
    this.producer = kafka.producer({
      idempotent: false,
      maxInFlightRequests: 1,
      allowAutoTopicCreation: true,
      // murmur2 on the key, as the Java client: other producers of the topic agree on each host's partition.
      createPartitioner: Partitioners.DefaultPartitioner,
    });
  }

  /** Connects in the background, retrying forever: a cluster that is down at start must not stop the API. */
  start(): void {
    void this.connectUntilUp();
  }

  async publish(events: EventEnvelope[]): Promise<void> {
    if (events.length === 0) return;
    await this.connectOnce();
    await this.queue.push(events.map(toKafkaMessage));
  }

  /** In order, cut into requests within the budget: one large publish may need several. */
  private async sendInRequests(messages: Message[]): Promise<void> {
    for (let start = 0; start < messages.length; ) {
      const end = start + countWithin(messages.slice(start), messageSize, MAX_REQUEST_BYTES);
      await this.send(messages.slice(start, end));
      start = end;
    }
  }

  private async send(messages: Message[]): Promise<void> {
    try {
      await this.producer.send({ topic: this.topic, acks: -1, messages });
    } catch (e) {
      this.failing = true;
      this.lastError = kafkaError(e);
      throw e;
    }
    this.failing = false;
    this.lastPublishAt = new Date().toISOString();
  }

  health(): KafkaProducerHealth {
    const stalled = Date.now() - (this.queue.oldestQueuedAt() ?? Infinity) > this.stallAfterMs;
    return { connected: this.connected, failing: this.failing || stalled, lastPublishAt: this.lastPublishAt, lastError: this.lastError };
  }

  async close(): Promise<void> {
    this.stopping.abort();
    await this.connecting?.catch(() => undefined);
    await this.producer.disconnect();
    this.connected = false;
  }

  private async connectUntilUp(): Promise<void> {
    for (let attempt = 0; !this.connected && !this.stopping.signal.aborted; attempt++) {
      try {
        await this.connectOnce();
      } catch {
        await pause(backoffDelay(attempt, this.backoff), this.stopping.signal);
      }
    }
  }

  /** One connection attempt shared by every caller waiting for it; later broker losses are healed by kafkajs on send. */
  private connectOnce(): Promise<void> {
    if (this.connected) return Promise.resolve();
    if (this.stopping.signal.aborted) return Promise.reject(new KafkaUnavailableError('the Kafka transport is closed'));
    this.connecting ??= this.producer
      .connect()
      .then(() => {
        this.connected = true;
      })
      .catch((e: unknown) => {
        this.failing = true;
        this.lastError = kafkaError(e);
        throw new KafkaUnavailableError(`cannot connect to Kafka: ${this.lastError.message}`);
      })
      .finally(() => {
        this.connecting = undefined;
      });
    return this.connecting;
  }
}

/** Key, value and headers: near enough to what a record takes in a request, for a budget. */
function messageSize(message: Message): number {
  const length = (v: unknown) => (typeof v === 'string' ? Buffer.byteLength(v) : Buffer.isBuffer(v) ? v.length : 0);
  let headers = 0;
  for (const [name, value] of Object.entries(message.headers ?? {})) headers += name.length + length(value);
  return length(message.key) + length(message.value) + headers;
}
