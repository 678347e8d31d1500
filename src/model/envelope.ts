import { hash as oneShotHash } from 'node:crypto';
import { canonicalJson } from './canonical-json';
import type { EventEnvelope, HostEvent, HostEventType } from './events';

export type { Actor, EventEnvelope } from './events';

/** prevHash of a host's first event. */
export const GENESIS_HASH = '0'.repeat(64);

/** The domain event inside an envelope. */
export function eventOf(envelope: EventEnvelope): HostEvent {
  return { type: envelope.type, data: envelope.data } as HostEvent;
}

/**
 * SHA-256 over prevHash and the canonical JSON of every other field of the envelope.
 * `dataText`, when the caller has it, is canonicalJson(envelope.data).
 */
export function envelopeHash(envelope: Unhashed, dataText?: string): string {
  return hashOfCanonicalText(envelope.prevHash, canonicalEnvelopeText(envelope, dataText));
}

/** The hash of an envelope whose `canonicalEnvelopeText` is `text`. */
export function hashOfCanonicalText(prevHash: string, text: string): string {
  return oneShotHash('sha256', prevHash + text);
}

type Unhashed = Omit<EventEnvelope, 'hash'> & { hash?: unknown };

/**
 * canonicalJson of the envelope minus `hash`: what its hash covers after `prevHash`. The store
 * composes the same text from an event row (envelope-rows.ts), since `data` is stored as its
 * canonical JSON.
 */
export function canonicalEnvelopeText(envelope: Unhashed, dataText?: string): string {
  return usualEnvelopeText(envelope, dataText) ?? canonicalJson(withoutHash(envelope));
}

function withoutHash(envelope: Unhashed): Omit<Unhashed, 'hash'> {
  const { hash: _ignored, ...rest } = envelope;
  return rest;
}

/** The scalar members of an envelope, each a string or a number; with `data`, every member but `hash` of one. */
const SCALARS = ['actor', 'commandId', 'correlationId', 'eventId', 'hostId', 'occurredAt', 'prevHash', 'schemaVersion', 'type', 'version'] as const;

/**
 * canonicalEnvelopeText for an envelope of exactly the usual members: the scalars written in
 * their sorted order with JSON.stringify (which is how canonicalJson writes a string or a
 * number), only `data` through canonicalJson: about half the cost of sorting the whole
 * envelope. Undefined for any other shape (a member missing, added or of another type), which
 * the caller then writes the general way.
 */
function usualEnvelopeText(e: Unhashed, dataText: string | undefined): string | undefined {
  let members = 0;
  for (const _ in e) members++;
  const hasTenant = typeof e.tenantId === 'string';
  const expected = SCALARS.length + 1 + (hasTenant ? 1 : 0) + ('hash' in e ? 1 : 0);
  if (members !== expected || typeof e.data !== 'object' || e.data === null) return undefined;
  for (const name of SCALARS) {
    const type = typeof e[name];
    if (type !== 'string' && type !== 'number') return undefined;
  }
  return (
    `{"actor":${JSON.stringify(e.actor)},"commandId":${JSON.stringify(e.commandId)},"correlationId":${JSON.stringify(e.correlationId)}` +
    `,"data":${dataText ?? canonicalJson(e.data)},"eventId":${JSON.stringify(e.eventId)},"hostId":${JSON.stringify(e.hostId)}` +
    `,"occurredAt":${JSON.stringify(e.occurredAt)},"prevHash":${JSON.stringify(e.prevHash)},"schemaVersion":${JSON.stringify(e.schemaVersion)}` +
    `${hasTenant ? `,"tenantId":${JSON.stringify(e.tenantId)}` : ''},"type":${JSON.stringify(e.type)},"version":${JSON.stringify(e.version)}}`
  );
}

export type { HostEventType };
