import { randomUUID } from 'node:crypto';
import { envelopeHash, GENESIS_HASH, type EventEnvelope } from '../../src/model/envelope';
import { EVENT_SCHEMA_VERSION, type HostEvent } from '../../src/model/events';

/**
 * A host's event stream as the store would hand it to the relay: versions 1..count, hash
 * chained. The payloads are plausible but not decided by the domain: transport tests only
 * need distinct, ordered, verifiable envelopes.
 */
export function hostEventChain(hostId: string, count: number): EventEnvelope[] {
  const chain: EventEnvelope[] = [];
  let prevHash = GENESIS_HASH;
  for (let version = 1; version <= count; version++) {
    const event: HostEvent =
      version === 1
        ? { type: 'HostRegistered', data: { hostId, pasidBits: 20, enqcmd: true, nestedPasidTable: false, devices: [{ rid: '0000:3b:00.1', kind: 'vf', pasidBits: 20 }] } }
        : { type: 'IoasidAllocated', data: { fdId: `fd-${hostId}`, ioasid: version - 1 } };
    const id = randomUUID();
    const unsigned = {
      eventId: id,
      hostId,
      version,
      type: event.type,
      schemaVersion: EVENT_SCHEMA_VERSION,
      occurredAt: new Date().toISOString(),
      actor: 'operator' as const,
      commandId: id,
      correlationId: id,
      data: event.data,
      prevHash,
    };
    const envelope = { ...unsigned, hash: envelopeHash(unsigned) } as EventEnvelope;
    chain.push(envelope);
    prevHash = envelope.hash;
  }
  return chain;
}

/** Splits a chain into the batches a relay would publish (one host, consecutive versions). */
export function inBatches<T>(items: T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}
