import { GENESIS_HASH, type EventEnvelope } from '../../src/model/envelope';
import { buildEnvelopes, type AppendRequest } from '../../src/store/append-request';
import type { EventSource, SourcedEvent } from '../../src/replay/event-source';
import type { EventStore } from '../../src/store/event-store';

/** An event log in memory, appended to as the store does (same envelopes, same chain), for tests without a database. */
export class MemoryLog implements Pick<EventStore, 'append'> {
  readonly envelopes: EventEnvelope[] = [];
  private clock = Date.parse('2025-03-01T00:00:00.000Z');

  async append(request: AppendRequest): Promise<EventEnvelope[]> {
    const head = this.envelopes.filter((e) => e.hostId === request.hostId).at(-1);
    // Each command one second after the one before: distinct, predictable instants.
    this.clock += 1000;
    const envelopes = buildEnvelopes(request, head?.hash ?? GENESIS_HASH, new Date(this.clock).toISOString());
    this.envelopes.push(...envelopes);
    return envelopes;
  }
}

/** A source over given envelopes, yielded as they are (in that order, tampered or not), in small batches. */
export class ArraySource implements EventSource {
  readonly name = 'memory';

  constructor(
    private readonly envelopes: readonly EventEnvelope[],
    private readonly batchSize = 4,
  ) {}

  async *read(hostId: string, afterVersion: number): AsyncGenerator<SourcedEvent[]> {
    const mine = this.envelopes.filter((e) => e.hostId === hostId && e.version > afterVersion);
    for (let i = 0; i < mine.length; i += this.batchSize) yield mine.slice(i, i + this.batchSize).map((envelope) => ({ envelope }));
  }
}
