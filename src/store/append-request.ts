import { envelopeHash, type Actor, type EventEnvelope } from '../model/envelope';
import { EVENT_SCHEMA_VERSION, type HostEvent } from '../model/events';
import { canonicalJson } from '../model/canonical-json';
import { timeOrderedUuid } from '../model/time-ordered-uuid';
import type { HostSpec } from '../model/values';

/** The stored answer of a write, replayed for a repeat of the same Idempotency-Key. */
export interface IdempotencyRecord {
  /** 'operator' or the tenant id: keys are per tenant. */
  scope: string;
  key: string;
  fingerprint: string;
  /** The answer's body (undefined: none); each transport sends it with its own status. */
  body: unknown;
}

/** One command's events for one host stream, appended only if the stream is still at `expectedVersion`. */
export interface AppendRequest {
  hostId: string;
  expectedVersion: number;
  events: readonly HostEvent[];
  /** The tenant whose fd the events concern (absent for host-level events); stamped into each envelope. */
  tenantId?: string;
  actor: Actor;
  commandId: string;
  correlationId: string;
  /** Stored in the same transaction as the events. */
  idempotency?: IdempotencyRecord;
  /**
   * The host as the decider state has it after these events, when they changed it (a
   * registration, a device added or removed, a cordon, a decommission): the hosts table's
   * `spec` becomes it in the same statement, so host reads show it at once on any replica.
   */
  host?: HostSpec;
}

/**
 * Another request committed the same idempotency key first (a race the in-process lock
 * cannot see: the two requests ran on different hosts or replicas). The caller looks the
 * record up again and answers from it.
 */
export class IdempotencyKeyTaken extends Error {
  constructor(readonly scope: string, readonly key: string) {
    super(`idempotency key ${key} was committed by a concurrent request`);
    this.name = 'IdempotencyKeyTaken';
  }
}

/** The envelopes of a request once its stream's head hash is known: versions follow expectedVersion, each hash chains to the one before. */
export function buildEnvelopes(request: AppendRequest, headHash: string, occurredAt = new Date().toISOString()): EventEnvelope[] {
  let prevHash = headHash;
  return request.events.map((event, i) => {
    const unhashed: Omit<EventEnvelope, 'hash'> = {
      eventId: timeOrderedUuid(),
      hostId: request.hostId,
      version: request.expectedVersion + i + 1,
      type: event.type,
      schemaVersion: EVENT_SCHEMA_VERSION,
      occurredAt,
      ...(request.tenantId !== undefined ? { tenantId: request.tenantId } : {}),
      actor: request.actor,
      commandId: request.commandId,
      correlationId: request.correlationId,
      data: event.data,
      prevHash,
    };
    const dataText = canonicalJson(event.data);
    const envelope = { ...unhashed, hash: envelopeHash(unhashed, dataText) } as EventEnvelope;
    dataTexts.set(envelope, dataText);
    prevHash = envelope.hash;
    return envelope;
  });
}

/** canonicalJson of the data of each envelope buildEnvelopes made: computed once for the hash, reused by whoever writes the data out. */
const dataTexts = new WeakMap<EventEnvelope, string>();

/** canonicalJson(envelope.data): the text the envelope's hash covers, which the events table stores. */
export function canonicalDataOf(envelope: EventEnvelope): string {
  return dataTexts.get(envelope) ?? canonicalJson(envelope.data);
}
