import type { BackoffOptions } from './backoff';

/** What the process does with the topic: the API role only publishes, the projector only consumes. */
export type KafkaTransportMode = 'publish' | 'consume' | 'both';

export const DEFAULT_GROUP_ID = 'ioasid-projector';

export interface KafkaTransportOptions {
  brokers: string[];
  topic: string;
  mode: KafkaTransportMode;
  /** Consumer group of the projectors; instances of one group share the partitions. */
  groupId?: string;
  clientId?: string;
  /** Events per handler call, at most (default 500), unless one fetched batch alone holds more. */
  maxEventsPerDelivery?: number;
  /** Per-request timeout: how long a frozen broker may hold a publish before it is retried. */
  requestTimeoutMs?: number;
  connectionTimeoutMs?: number;
  /**
   * How long a fetch may wait for new events before answering empty (default 100). Kafka
   * answers as soon as data arrives; brokers that do not (the test cluster) hold every
   * fetch this long, so it bounds the delivery delay. Short waits only add idle polls.
   */
  fetchMaxWaitMs?: number;
  sessionTimeoutMs?: number;
  heartbeatIntervalMs?: number;
  /** Backoff of reconnects and of handler retries; both go on forever until close. */
  backoff?: BackoffOptions;
}
