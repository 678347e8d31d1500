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

/**
 * The present, where a watch without a cursor starts: the cursor at the snapshot's xmin puts
 * after it every event of a transaction still running; the transactions from xmin up to xmax
 * that had already committed are before the present all the same, and a watch from it skips
 * their events (`committedBefore`).
 */
export interface Present {
  cursor: FeedCursor;
  /** The snapshot's xmax: a transaction at or above it had not started. */
  xmax: bigint;
  /** The transactions below xmax still running at the present. */
  running: ReadonlySet<bigint>;
}

/** Whether the event at `cursor` had committed at `present` (a transaction is never running and committed at once). */
export function committedBefore(present: Present, cursor: FeedCursor): boolean {
  return cursor.tx < present.xmax && !present.running.has(cursor.tx);
}

/** The present of a snapshot as PostgreSQL writes it (`pg_current_snapshot()::text`: xmin:xmax:running,...). */
export function presentOf(snapshot: string): Present {
  const [xmin, xmax, running] = snapshot.split(':');
  return {
    cursor: { tx: BigInt(xmin), position: 0n },
    xmax: BigInt(xmax),
    running: new Set(running ? running.split(',').map(BigInt) : []),
  };
}

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
