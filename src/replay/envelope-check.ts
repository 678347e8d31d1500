import { hash as oneShotHash } from 'node:crypto';
import { envelopeHash, hashOfCanonicalText, type EventEnvelope } from '../model/envelope';

/** True when `envelope.hash` is the SHA-256 its writer computed over `prevHash` and the canonical JSON of every other field. */
export function hasValidHash(envelope: EventEnvelope): boolean {
  // Sources hand over whatever JSON they read: a member renamed away is a mismatch, not a crash.
  if (typeof envelope.prevHash !== 'string' || typeof envelope.hash !== 'string') return false;
  return envelopeHash(envelope) === envelope.hash;
}

/**
 * True when `line`, a text the envelope was parsed from, is exactly what its writer hashed after
 * `prevHash` (canonicalEnvelopeText): the stored row proves its recorded hash with one SHA-256,
 * nothing re-serialized. True is proof on its own (a SHA-256 preimage); false proves nothing
 * (the text may just not be canonical), and the hash is then recomputed from the envelope.
 */
export function textProvesHash(prevHash: unknown, line: string, hash: string): boolean {
  return typeof prevHash === 'string' && hashOfCanonicalText(prevHash, line) === hash;
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
