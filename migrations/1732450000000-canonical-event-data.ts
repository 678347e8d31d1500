import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * `events.data` becomes `json`, which keeps its text as written, and the writer stores it as its
 * canonical JSON: a row then composes into exactly the text its hash covers (ENVELOPE_LINE), so
 * a replay proves each row with one SHA-256 instead of re-serializing it. `jsonb` rewrote the
 * text (key order, spaces). Rows written before keep jsonb's text: they decode to the same
 * envelopes and their hashes are recomputed, as before. The migrations trigger reads `data`
 * as jsonb, so it casts.
 */
export class CanonicalEventData1732450000000 implements MigrationInterface {
  name = 'CanonicalEventData1732450000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query('ALTER TABLE events ALTER COLUMN data TYPE json USING data::json');
    await q.query(migrationsTrigger('NEW.data::jsonb'));
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('ALTER TABLE events ALTER COLUMN data TYPE jsonb USING data::jsonb');
    await q.query(migrationsTrigger('NEW.data'));
  }
}

function migrationsTrigger(data: string): string {
  return `
    CREATE OR REPLACE FUNCTION migrations_on_event() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      PERFORM migrations_apply(NEW.host_id, NEW.type, ${data}, NEW.tenant_id, NEW.occurred_at);
      RETURN NULL;
    END $$`;
}
