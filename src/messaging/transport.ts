import type { EventEnvelope } from '../model/envelope';

/**
 * How committed events leave the outbox and reach projections. Two implementations:
 * in-process (KAFKA_BROKERS unset) and Kafka. Everything before `publish` (outbox,
 * relay) and after `subscribe` (projector) is the same code for both.
 */
export interface EventTransport {
  /** Publishes a batch of one host's events, in version order; resolves once durable on the transport. */
  publish(events: EventEnvelope[]): Promise<void>;
  /**
   * Delivers events to `handler`, at least once and in per-host version order; a batch is
   * acknowledged (offsets committed) only after the handler resolves.
   */
  subscribe(handler: (events: EventEnvelope[]) => Promise<void>): Promise<void>;
  close(): Promise<void>;
  /**
   * Kafka: calls `listener` after each rebalance that took partitions from this consumer, with
   * whether a host's events still come here; absent: every host's events always do.
   */
  onPartitionsRevoked?(listener: (owned: (hostId: string) => boolean) => void): void;
  /** Connectivity for /readyz and metrics (Kafka: producer connected and publishing, consumer in its group); absent: always fine. */
  health?(): TransportHealth;
  /**
   * Events on their way to this process's subscriber and not handled yet, known without asking
   * the database (Kafka: up to the assigned partitions' high watermarks; in-process: queued).
   */
  consumerLag?(): number;
}

/** `ok` says whether the transport works for this process; the other fields are details shown as they are. */
export interface TransportHealth {
  ok: boolean;
  [detail: string]: unknown;
}

export const EVENT_TRANSPORT = Symbol('EVENT_TRANSPORT');
