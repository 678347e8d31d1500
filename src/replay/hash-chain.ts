import { GENESIS_HASH, type EventEnvelope } from '../model/envelope';
import { hasValidHash } from './envelope-check';
import type { SourcedEvent } from './event-source';

/** The first place where a host's event log stops being the one that was written. */
export interface ChainBreak {
  /** The first version that is missing, altered or out of place. */
  version: number;
  reason: string;
}

/** Where a chain check starts: before version 1, or after an event already trusted (a snapshot's). */
export interface ChainPosition {
  version: number;
  /** The hash of the event at `version` (GENESIS_HASH at version 0). */
  hash: string;
}

export const CHAIN_START: ChainPosition = { version: 0, hash: GENESIS_HASH };

/**
 * Checks a host's envelopes one by one, in the order a source yields them: versions
 * contiguous from the start position, each `prevHash` the hash of the event before, and each
 * `hash` recomputed from the envelope. A deleted row shows as a gap, an edited one as a hash
 * mismatch, swapped rows as a broken link or a mismatch: every case names the first bad version.
 */
export class HashChainCheck {
  private version: number;
  private hash: string;

  constructor(
    private readonly hostId: string,
    start: ChainPosition = CHAIN_START,
  ) {
    this.version = start.version;
    this.hash = start.hash;
  }

  get position(): ChainPosition {
    return { version: this.version, hash: this.hash };
  }

  /** Says why `envelope` is not the next link, or undefined when it is (then `accept` it once applied). */
  check({ envelope, hashProven }: SourcedEvent): ChainBreak | undefined {
    const expected = this.version + 1;
    if (envelope.hostId !== this.hostId) {
      return { version: expected, reason: `event ${envelope.eventId} belongs to host "${envelope.hostId}", not "${this.hostId}"` };
    }
    if (envelope.version !== expected) {
      const reason =
        envelope.version > expected
          ? `version ${expected} is missing: the next event is version ${envelope.version}`
          : `version ${envelope.version} appears again after version ${this.version}`;
      return { version: expected, reason };
    }
    if (envelope.prevHash !== this.hash) {
      return { version: expected, reason: `prevHash does not match the hash of version ${this.version}` };
    }
    if (!hashProven && !hasValidHash(envelope)) {
      return { version: expected, reason: 'the recorded hash does not match the event content' };
    }
    return undefined;
  }

  /** Moves past an envelope that `check` passed. */
  accept(envelope: EventEnvelope): void {
    this.version = envelope.version;
    this.hash = envelope.hash;
  }
}
