import type { TransportHealth } from '../transport';

/** The last failure seen, for /readyz and logs. */
export interface KafkaError {
  message: string;
  at: string;
}

export interface KafkaProducerHealth {
  connected: boolean;
  /** The last publish failed and none succeeded since, or a publish waits longer than a request may. */
  failing: boolean;
  lastPublishAt?: string;
  lastError?: KafkaError;
}

export interface KafkaConsumerHealth {
  groupId: string;
  /** Member of the group with an assignment (possibly empty, when other instances hold every partition). */
  joined: boolean;
  assignedPartitions: number[];
  /** In the group, with room to fetch, and no fetch answered for a while: the cluster stopped answering. */
  fetchStalled: boolean;
  /** The handler failed on the last attempt and is being retried. */
  handlerFailing: boolean;
  /** Events of the assigned partitions not handled yet (up to the high watermarks of the last fetch). */
  lag: number;
  lastError?: KafkaError;
}

export interface KafkaHealth extends TransportHealth {
  brokers: string[];
  topic: string;
  producer?: KafkaProducerHealth;
  consumer?: KafkaConsumerHealth;
}

export function kafkaError(e: unknown): KafkaError {
  return { message: e instanceof Error ? `${e.name}: ${e.message}` : String(e), at: new Date().toISOString() };
}
