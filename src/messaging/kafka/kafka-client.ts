import { Kafka } from 'kafkajs';
import { KAFKA_LOG_LEVEL, kafkaLogCreator } from './kafka-log';
import type { KafkaTransportOptions } from './kafka-options';

export function requestTimeoutMs(options: KafkaTransportOptions): number {
  return options.requestTimeoutMs ?? 30_000;
}

/** One kafkajs client per transport; producer and consumer share its broker connections settings. */
export function createKafkaClient(options: KafkaTransportOptions): Kafka {
  return new Kafka({
    clientId: options.clientId ?? 'ioasid-manager',
    brokers: options.brokers,
    connectionTimeout: options.connectionTimeoutMs ?? 3_000,
    requestTimeout: requestTimeoutMs(options),
    logLevel: KAFKA_LOG_LEVEL,
    logCreator: kafkaLogCreator(),
    // kafkajs' own retries cover short blips; longer outages are retried by the publisher's
    // caller (the outbox relay) and the subscriber's supervisor, forever.
    retry: { initialRetryTime: 100, maxRetryTime: 5_000, retries: 5 },
  });
}
