import { createHash } from 'node:crypto';
import { canonicalJson } from '../shared/canonical-json';
import type { HostEvent, HostEventType } from './events';

/** prevHash of a host's first event. */
export const GENESIS_HASH = '0'.repeat(64);

/** Who caused an event: the operator or a tenant (by id, never by token). */
export type Actor = 'operator' | `tenant:${string}`;

/**
 * An event as stored, audited and published (API.md "Events"): the same JSON in
 * PostgreSQL, the audit API and Kafka. `hash` chains a host's events so that any
 * edit, loss or reordering shows.
 */
export interface EventEnvelope<E extends HostEvent = HostEvent> {
  eventId: string;
  hostId: string;
  version: number;
  type: E['type'];
  schemaVersion: number;
  occurredAt: string;
  tenantId?: string;
  actor: Actor;
  commandId: string;
  correlationId: string;
  data: E['data'];
  prevHash: string;
  hash: string;
}

/** The domain event inside an envelope. */
export function eventOf(envelope: EventEnvelope): HostEvent {
  return { type: envelope.type, data: envelope.data } as HostEvent;
}

/** SHA-256 over prevHash and the canonical JSON of every other field of the envelope. */
export function envelopeHash(envelope: Omit<EventEnvelope, 'hash'> & { hash?: string }): string {
  const { hash: _ignored, ...rest } = envelope;
  return createHash('sha256').update(envelope.prevHash).update(canonicalJson(rest)).digest('hex');
}

export type { HostEventType };
