import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * An idempotency record keeps the answer's body only: the status is the operation's, which the
 * REST adapter knows (src/api/operations), so the application carries no HTTP status. The
 * column stays, nullable, for the previous release during a rolling upgrade (deploy/README).
 */
export class IdempotencyWithoutStatus1732460000000 implements MigrationInterface {
  name = 'IdempotencyWithoutStatus1732460000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query('ALTER TABLE idempotency ALTER COLUMN status DROP NOT NULL');
  }

  async down(q: QueryRunner): Promise<void> {
    // Records without a status cannot be answered by the previous release: they are dropped (a repeat then runs again, as after 24 h).
    await q.query('DELETE FROM idempotency WHERE status IS NULL');
    await q.query('ALTER TABLE idempotency ALTER COLUMN status SET NOT NULL');
  }
}
