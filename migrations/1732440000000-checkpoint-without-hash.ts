import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The hardware projector stores its checkpoint (the version applied) after every batch, and the
 * hardware snapshot with its hash only every so many events: the checkpoint's hash is known only
 * when a snapshot is written with it, so it may be empty.
 */
export class CheckpointWithoutHash1732440000000 implements MigrationInterface {
  name = 'CheckpointWithoutHash1732440000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query('ALTER TABLE projection_checkpoints ALTER COLUMN hash DROP NOT NULL');
  }

  async down(q: QueryRunner): Promise<void> {
    // A checkpoint without its hash cannot be kept: the projector then catches up from its snapshot.
    await q.query('DELETE FROM projection_checkpoints WHERE hash IS NULL');
    await q.query('ALTER TABLE projection_checkpoints ALTER COLUMN hash SET NOT NULL');
  }
}
