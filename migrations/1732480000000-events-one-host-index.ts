import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The primary key (host_id, version) becomes the one index of events keyed by host: every
 * append wrote a page of each such index at the host's place, a random page once a fleet
 * outgrows the cache.
 * - `events_host_occurred_idx` (host_id, occurred_at) served a replay "as of time T", whose
 *   last version at or before T is now found by walking the primary key back from the host's
 *   head (EventReads.versionAt).
 * - `events_host_position_idx` (host_id, position) served the audit's by-host pages, now read
 *   along the primary key: within a host, positions follow versions
 *   (src/store/append-statement.ts).
 */
export class EventsOneHostIndex1732480000000 implements MigrationInterface {
  name = 'EventsOneHostIndex1732480000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query('DROP INDEX IF EXISTS events_host_occurred_idx');
    await q.query('DROP INDEX IF EXISTS events_host_position_idx');
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('CREATE INDEX IF NOT EXISTS events_host_occurred_idx ON events (host_id, occurred_at)');
    await q.query('CREATE INDEX IF NOT EXISTS events_host_position_idx ON events (host_id, position)');
  }
}
