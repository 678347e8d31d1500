import type { AppConfig, Role } from '../../config';
import type { KafkaTransportMode } from './kafka-options';
import { KafkaTransport } from './kafka-transport';

/** API processes own the outbox and only publish; projector processes only consume. */
const MODE_OF_ROLE: Record<Role, KafkaTransportMode> = { api: 'publish', projector: 'consume', all: 'both' };

/** The Kafka transport of KAFKA_BROKERS / KAFKA_TOPIC / KAFKA_GROUP_ID / KAFKA_SESSION_TIMEOUT_MS, in the mode of ROLE. */
export function kafkaTransportFromConfig(config: AppConfig & { kafkaBrokers: string[] }): KafkaTransport {
  return new KafkaTransport({
    brokers: config.kafkaBrokers,
    topic: config.kafkaTopic,
    groupId: config.kafkaGroupId,
    ...(config.kafkaSessionTimeoutMs
      ? { sessionTimeoutMs: config.kafkaSessionTimeoutMs, heartbeatIntervalMs: Math.max(1, Math.floor(config.kafkaSessionTimeoutMs / 3)) }
      : {}),
    mode: MODE_OF_ROLE[config.role],
  });
}
