import { DomainError } from '../model/errors';

/**
 * A place in the event log as the watch reads it: after every event of a transaction below
 * `tx`, and after the events of transaction `tx` up to `position`. Events are read in
 * (tx, position) order below the high-water mark (migrations/1732470000000), so an event
 * committed later is always after every cursor already handed out.
 */
export interface FeedCursor {
  tx: bigint;
  position: bigint;
}

export const LOG_START: FeedCursor = { tx: 0n, position: 0n };

export function compareCursors(a: FeedCursor, b: FeedCursor): number {
  if (a.tx !== b.tx) return a.tx < b.tx ? -1 : 1;
  if (a.position !== b.position) return a.position < b.position ? -1 : 1;
  return 0;
}

/** The cursor as clients see it (SSE `id:`, gRPC `cursor`): opaque, so what is inside may change. */
export function encodeCursor(cursor: FeedCursor): string {
  return Buffer.from(`w1.${cursor.tx}.${cursor.position}`, 'utf8').toString('base64url');
}

/** The cursor a client sent back; VALIDATION_FAILED naming `field` when it is not one this API made. */
export function decodeCursor(text: string, field: string): FeedCursor {
  const match = /^w1\.(\d{1,20})\.(\d{1,19})$/.exec(Buffer.from(text, 'base64url').toString('utf8'));
  if (match && encodeCursor({ tx: BigInt(match[1]), position: BigInt(match[2]) }) === text) {
    return { tx: BigInt(match[1]), position: BigInt(match[2]) };
  }
  throw new DomainError('VALIDATION_FAILED', `${field} is not a watch cursor this API returned`, {
    fields: [{ field, message: 'invalid watch cursor' }],
  });
}
