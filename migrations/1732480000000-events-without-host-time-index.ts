import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * `events_host_occurred_idx` (host_id, occurred_at) goes: every append wrote a page of it at
 * the host's place, a random page once a fleet outgrows the cache, for one rare read (a replay
 * "as of time T", whose last version at or before T is now found by walking the host's
 * primary key back from its head: see EventReads.versionAt).
 */
export class EventsWithoutHostTimeIndex1732480000000 implements MigrationInterface {
  name = 'EventsWithoutHostTimeIndex1732480000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query('DROP INDEX IF EXISTS events_host_occurred_idx');
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('CREATE INDEX IF NOT EXISTS events_host_occurred_idx ON events (host_id, occurred_at)');
  }
}
