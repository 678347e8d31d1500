import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Each event records the id of the transaction that inserted it (`tx`, xid8), so that a reader
 * can tell which positions are known to be committed: every transaction with an id below the
 * oldest one still running (`pg_snapshot_xmin(pg_current_snapshot())`) has ended, so no row with
 * such an id can appear later. Global positions are taken at insert and commit out of order;
 * read in (tx, position) order up to that high-water mark, the log has no gap that fills in
 * afterwards (the watch, src/store/event-feed-reads.ts; Emmett reads its log the same way).
 * Rows written before read as transaction 0: committed long ago, before any later one. The
 * constant default adds the column without rewriting the table; new rows get their
 * transaction's id.
 */
export class EventTransactionIds1732470000000 implements MigrationInterface {
  name = 'EventTransactionIds1732470000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE events ADD COLUMN tx xid8 NOT NULL DEFAULT '0'`);
    await q.query('ALTER TABLE events ALTER COLUMN tx SET DEFAULT pg_current_xact_id()');
    await q.query('CREATE INDEX events_tx_position_idx ON events (tx, position)');
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP INDEX IF EXISTS events_tx_position_idx');
    await q.query('ALTER TABLE events DROP COLUMN IF EXISTS tx');
  }
}
