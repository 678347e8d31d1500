import type { EventEnvelope } from '../model/envelope';

/** An envelope as a source read it. */
export interface SourcedEvent {
  envelope: EventEnvelope;
  /**
   * The source already proved the hash from the exact text it parsed the envelope from
   * (lineProvesItsHash, in a worker thread): the chain check need not recompute it.
   */
  hashProven?: boolean;
}

/**
 * Where a replay reads one host's events: PostgreSQL, the Kafka topic or an NDJSON file.
 * `read` yields the host's envelopes with a version above `afterVersion`, in the order the
 * source holds them (which the replay checks: a source never repairs what it finds), in
 * batches so that a million events never sit in memory at once. Each read holds its own
 * resources (a worker, a consumer) and releases them when it ends or its consumer stops
 * early (`break`): a source needs no closing.
 */
export interface EventSource {
  /** For messages: "PostgreSQL", "Kafka topic ioasid.events", "file host-1.ndjson". */
  readonly name: string;
  /** `toVersion` is a hint: the source may stop once past it (the replay stops there anyway). */
  read(hostId: string, afterVersion: number, toVersion?: number): AsyncIterable<SourcedEvent[]>;
  /**
   * The version the writer says the host is at, when the source keeps one apart from the
   * events (PostgreSQL's hosts table): a log that ends before it has lost its tail.
   */
  headVersion?(hostId: string): Promise<number>;
}

/** The events a source yields cannot be read as envelopes (a file line that is not one, a foreign message). */
export class MalformedSourceError extends Error {
  override readonly name = 'MalformedSourceError';
}
