import { randomUUID } from 'node:crypto';
import { Kafka, logLevel, type Admin, type EachBatchPayload } from 'kafkajs';
import type { EventEnvelope } from '../model/envelope';
import { fromKafkaMessage, MalformedEventMessage } from '../messaging/kafka/envelope-codec';
import { BatchQueue } from './batch-queue';
import { MalformedSourceError, type EventSource, type SourcedEvent } from './event-source';

export interface KafkaSourceOptions {
  brokers: string[];
  topic: string;
  connectionTimeoutMs?: number;
}

/** The Kafka cluster cannot be reached. */
export class SourceUnavailableError extends Error {
  override readonly name = 'SourceUnavailableError';
}

/** Partition -> the offset after its last message when the read began: where the read stops. */
type Watermarks = Map<number, number>;

/**
 * A host's events from the event topic: every partition read from its beginning up to the
 * high watermark it had when the read began, keeping messages whose key is the host. A fresh
 * consumer group per read, never committing, so a replay leaves no trace on the projectors'
 * offsets. Delivery is at least once: versions already yielded are dropped, as every
 * consumer of the topic does (API.md "Events").
 */
export class KafkaEventSource implements EventSource {
  readonly name: string;
  private readonly kafka: Kafka;

  constructor(private readonly options: KafkaSourceOptions) {
    this.name = `Kafka topic ${options.topic}`;
    this.kafka = new Kafka({
      clientId: 'ioasidctl',
      brokers: options.brokers,
      connectionTimeout: options.connectionTimeoutMs ?? 3_000,
      // A replay is a one-shot read: fail fast with a clear error rather than retry for minutes.
      retry: { retries: 2, initialRetryTime: 100, maxRetryTime: 1_000 },
      // Our errors say what went wrong; kafkajs' own log would pollute a --json stdout.
      logLevel: logLevel.NOTHING,
    });
  }

  async *read(hostId: string, afterVersion: number): AsyncGenerator<SourcedEvent[]> {
    const watermarks = await this.watermarks();
    if (watermarks.size === 0) return;
    const queue = new BatchQueue<SourcedEvent[]>();
    const key = Buffer.from(hostId);
    let lastVersion = afterVersion;

    const eachBatch = async ({ batch, heartbeat }: EachBatchPayload): Promise<void> => {
      const end = watermarks.get(batch.partition);
      if (end === undefined) return;
      const found: SourcedEvent[] = [];
      for (const message of batch.messages) {
        if (Number(message.offset) >= end) break;
        if (!message.key?.equals(key)) continue;
        const envelope = decode(message);
        if (envelope.version <= lastVersion) continue;
        lastVersion = envelope.version;
        found.push({ envelope });
      }
      if (found.length > 0) await queue.push(found);
      await heartbeat();
      if (Number(batch.lastOffset()) + 1 >= end) {
        watermarks.delete(batch.partition);
        if (watermarks.size === 0) queue.end();
      }
    };

    const consumer = this.kafka.consumer({
      groupId: `ioasidctl-replay-${randomUUID()}`,
      allowAutoTopicCreation: false,
      // Once a partition is read to its watermark its fetches come back empty: a short long-poll
      // lets the read end (and disconnect) promptly instead of waiting out the default 5 s.
      maxWaitTimeInMs: 200,
      // Large fetches: a replay reads a whole partition as fast as it can.
      maxBytesPerPartition: 8 << 20,
      maxBytes: 32 << 20,
    });
    try {
      await this.reach(() => consumer.connect());
      await consumer.subscribe({ topic: this.options.topic, fromBeginning: true });
      await consumer.run({
        autoCommit: false,
        eachBatch: (payload) => eachBatch(payload).catch((e: unknown) => queue.fail(e)),
      });
      yield* queue;
    } finally {
      await consumer.disconnect().catch(() => undefined);
    }
  }

  private async watermarks(): Promise<Watermarks> {
    const admin = this.kafka.admin();
    await this.reach(() => admin.connect());
    try {
      const topics = await admin.listTopics();
      if (!topics.includes(this.options.topic)) return new Map();
      return await highWatermarks(admin, this.options.topic);
    } finally {
      await admin.disconnect();
    }
  }

  private async reach(connect: () => Promise<void>): Promise<void> {
    try {
      await connect();
    } catch (e) {
      throw new SourceUnavailableError(`cannot reach Kafka at ${this.options.brokers.join(',')}: ${e instanceof Error ? e.message : String(e)}`);
    }
  }
}

async function highWatermarks(admin: Admin, topic: string): Promise<Watermarks> {
  const offsets = await admin.fetchTopicOffsets(topic);
  return new Map(offsets.filter((o) => Number(o.high) > Number(o.low)).map((o) => [o.partition, Number(o.high)]));
}

function decode(message: Parameters<typeof fromKafkaMessage>[0]): EventEnvelope {
  try {
    return fromKafkaMessage(message);
  } catch (e) {
    if (e instanceof MalformedEventMessage) throw new MalformedSourceError(e.message);
    throw e;
  }
}
