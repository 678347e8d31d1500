import { hash as oneShotHash } from 'node:crypto';
import { envelopeHash, type EventEnvelope } from '../domain/envelope';
import { canonicalJson } from '../shared/canonical-json';

/** True when `envelope.hash` is the SHA-256 its writer computed over `prevHash` and the canonical JSON of every other field. */
export function hasValidHash(envelope: EventEnvelope): boolean {
  // Sources hand over whatever JSON they read: a member renamed away is a mismatch, not a crash.
  if (typeof envelope.prevHash !== 'string' || typeof envelope.hash !== 'string') return false;
  const text = canonicalEnvelopeText(envelope);
  if (text === undefined) return envelopeHash(envelope) === envelope.hash;
  return oneShotHash('sha256', envelope.prevHash + text) === envelope.hash;
}

/** The scalar members of an envelope, each a string or a number; with `data` and `hash`, every member of one. */
const SCALARS = ['actor', 'commandId', 'correlationId', 'eventId', 'hostId', 'occurredAt', 'prevHash', 'schemaVersion', 'type', 'version'] as const;
/** The members of an envelope without a tenant, `hash` included. */
const MEMBERS = SCALARS.length + 2;

/**
 * canonicalJson of the envelope minus `hash` (what envelopeHash hashes after `prevHash`), for an
 * envelope of exactly the usual members: scalar members written in their sorted order with
 * JSON.stringify (which is how canonicalJson writes a string or a number), only `data` through
 * canonicalJson: about half the cost of sorting the whole envelope, which was most of a
 * replay's hash check. Undefined for any other shape (a member missing, added or of another
 * type), which the caller then hashes the general way.
 */
function canonicalEnvelopeText(e: EventEnvelope): string | undefined {
  let members = 0;
  for (const _ in e) members++;
  const hasTenant = typeof e.tenantId === 'string';
  if (members !== MEMBERS + (hasTenant ? 1 : 0) || typeof e.data !== 'object' || e.data === null) return undefined;
  for (const name of SCALARS) {
    const type = typeof e[name];
    if (type !== 'string' && type !== 'number') return undefined;
  }
  return (
    `{"actor":${JSON.stringify(e.actor)},"commandId":${JSON.stringify(e.commandId)},"correlationId":${JSON.stringify(e.correlationId)}` +
    `,"data":${canonicalJson(e.data)},"eventId":${JSON.stringify(e.eventId)},"hostId":${JSON.stringify(e.hostId)}` +
    `,"occurredAt":${JSON.stringify(e.occurredAt)},"prevHash":${JSON.stringify(e.prevHash)},"schemaVersion":${JSON.stringify(e.schemaVersion)}` +
    `${hasTenant ? `,"tenantId":${JSON.stringify(e.tenantId)}` : ''},"type":${JSON.stringify(e.type)},"version":${JSON.stringify(e.version)}}`
  );
}

// In canonical key order "data" is the only nested value and comes before both members, so
// their last occurrences in a line are the top-level ones.
const HASH_MEMBER = Buffer.from(',"hash":"');
const PREV_HASH_MEMBER = Buffer.from(',"prevHash":"');
const HASH_LENGTH = 64;
const QUOTE = 0x22;

/**
 * True when the bytes [start, end) of `line` are an envelope in canonical JSON whose recorded
 * hash they prove, without parsing them. An export writes each envelope as canonical JSON, so
 * the line minus its `"hash"` member is exactly what the writer hashed after `prevHash`.
 * True is proof on its own: a line that hashes to its recorded hash is a SHA-256 preimage, so
 * the line parses to the envelope that was written. False proves nothing (the line may just not
 * be canonical: keys in another order, spaces): the envelope's hash is then recomputed.
 */
export function lineProvesItsHash(line: Buffer, start: number, end: number): boolean {
  const hashAt = line.lastIndexOf(HASH_MEMBER, end - HASH_MEMBER.length);
  const prevAt = line.lastIndexOf(PREV_HASH_MEMBER, end - PREV_HASH_MEMBER.length);
  if (hashAt < start || prevAt < start) return false;
  const hashStart = hashAt + HASH_MEMBER.length;
  const prevStart = prevAt + PREV_HASH_MEMBER.length;
  if (line[hashStart + HASH_LENGTH] !== QUOTE || line[prevStart + HASH_LENGTH] !== QUOTE) return false;
  const hashed = Buffer.concat([
    line.subarray(prevStart, prevStart + HASH_LENGTH),
    line.subarray(start, hashAt),
    line.subarray(hashStart + HASH_LENGTH + 1, end),
  ]);
  return oneShotHash('sha256', hashed) === line.toString('latin1', hashStart, hashStart + HASH_LENGTH);
}
