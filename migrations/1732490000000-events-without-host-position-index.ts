import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * `events_host_position_idx` (host_id, position) goes: every append wrote a page of it at the
 * host's place, a random page once a fleet outgrows the cache. Within a host, positions follow
 * versions (src/store/append-statement.ts), so the audit's by-host pages, which it served, are
 * read along the primary key (host_id, version) instead (EventReads.list).
 */
export class EventsWithoutHostPositionIndex1732490000000 implements MigrationInterface {
  name = 'EventsWithoutHostPositionIndex1732490000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query('DROP INDEX IF EXISTS events_host_position_idx');
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('CREATE INDEX IF NOT EXISTS events_host_position_idx ON events (host_id, position)');
  }
}
