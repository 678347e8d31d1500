import { envelopeHash, type EventEnvelope } from '../../src/model/envelope';

/** Deep copies, so a tampered log never changes the original. */
export function copyLog(envelopes: readonly EventEnvelope[]): EventEnvelope[] {
  return envelopes.map((e) => structuredClone(e));
}

/**
 * What a careful forger does after editing an event: recompute every hash from `fromVersion`
 * on, so that the chain itself is valid again. Only a comparison with an independent state
 * (the live projection) can catch that.
 */
export function rechain(log: EventEnvelope[], fromVersion: number): EventEnvelope[] {
  for (let i = fromVersion - 1; i < log.length; i++) {
    const e = log[i]!;
    if (i > 0) e.prevHash = log[i - 1]!.hash;
    e.hash = envelopeHash(e);
  }
  return log;
}
