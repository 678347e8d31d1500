import { randomFillSync } from 'node:crypto';

/** Random bytes drawn in blocks: one call into the generator per 409 ids, as randomUUID does. */
const POOL = Buffer.alloc(4096);
let pooled = POOL.length;

/**
 * A UUID version 7 (RFC 9562): the Unix time in milliseconds in its first 48 bits, then 74
 * random bits. An id made in a later millisecond sorts after every earlier one, so a B-tree
 * index of them takes each new one on its right-most page, the page already in memory, where
 * random (version 4) ids land on any page of the index: a read and, after each checkpoint, a
 * full-page image in the WAL per insert once the index outgrows the database's buffers. For
 * ids that are index keys: events', fds'. As unguessable as the ids they replace need to be
 * (they name, they do not authorize).
 */
export function timeOrderedUuid(now = Date.now()): string {
  if (pooled + 10 > POOL.length) {
    randomFillSync(POOL);
    pooled = 0;
  }
  const bytes = Buffer.alloc(16);
  bytes.writeUIntBE(now, 0, 6);
  POOL.copy(bytes, 6, pooled, pooled + 10);
  pooled += 10;
  bytes[6] = 0x70 | (bytes[6]! & 0x0f);
  bytes[8] = 0x80 | (bytes[8]! & 0x3f);
  const hex = bytes.toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}
