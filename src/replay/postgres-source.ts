import { envelopeFromLine, type EnvelopeLine } from '../store/envelope-rows';
import type { EventStore } from '../store/event-store';
import type { HostDirectory } from '../store/host-directory';
import { textProvesHash } from './envelope-check';
import type { EventSource, SourcedEvent } from './event-source';

/**
 * Versions per query: enough rows to lose a query's fixed cost, few enough that the rows in
 * flight (READ_AHEAD windows, and the one being replayed) stay small for the garbage collector.
 */
const WINDOW = 1_000;
/** Windows requested ahead of the one being replayed: the database works while the replay does. */
const READ_AHEAD = 3;

/**
 * A host's events from PostgreSQL through the store's reads (per row the text its hash covers:
 * `ENVELOPE_LINE`, parsed once and proved by one SHA-256), window by window of versions up to
 * the host's head (the hosts table). Windows, not "read until a short batch": a deleted row
 * must show as a gap to the chain check, not end the stream quietly. The next windows are
 * requested before the current one is handed over, on their own connections, so PostgreSQL
 * works on the other core meanwhile.
 */
export class PostgresEventSource implements EventSource {
  readonly name = 'PostgreSQL';

  constructor(
    private readonly events: Pick<EventStore, 'readLines'>,
    private readonly hosts: Pick<HostDirectory, 'headVersion'>,
  ) {}

  headVersion(hostId: string): Promise<number> {
    return this.hosts.headVersion(hostId);
  }

  async *read(hostId: string, afterVersion: number, toVersion?: number): AsyncGenerator<SourcedEvent[]> {
    const head = await this.hosts.headVersion(hostId);
    const last = toVersion === undefined ? head : Math.min(head, toVersion);
    const inFlight: Array<Promise<EnvelopeLine[]>> = [];
    let next = afterVersion;
    const request = () => {
      while (inFlight.length < READ_AHEAD && next < last) {
        const upTo = Math.min(next + WINDOW, last);
        inFlight.push(this.events.readLines(hostId, next, upTo));
        next = upTo;
      }
    };
    try {
      for (request(); inFlight.length > 0; request()) {
        const rows = await inFlight.shift()!;
        if (rows.length > 0) yield rows.map(sourced);
      }
    } finally {
      // A consumer that stopped early leaves requests in flight: their outcome no longer matters.
      for (const pending of inFlight) pending.catch(() => undefined);
    }
  }
}

function sourced(row: EnvelopeLine): SourcedEvent {
  const envelope = envelopeFromLine(row);
  return { envelope, hashProven: textProvesHash(envelope.prevHash, row.line, row.hash) };
}
