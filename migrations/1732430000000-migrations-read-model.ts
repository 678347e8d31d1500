import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The read model of fd migrations (GET /v1/migrations/{id}, and the start-up recovery's list
 * of migrations still running). A trigger on `events` keeps it, so every row changes in the
 * same transaction as the event that changes it: the read model can never lag behind or run
 * ahead of the streams, whichever process or replica appended. The events stay the truth;
 * the table is rebuilt from them here for streams written before it existed. `data` is cast to
 * jsonb because the column became json later (CanonicalEventData1732450000000).
 */
export class MigrationsReadModel1732430000000 implements MigrationInterface {
  name = 'MigrationsReadModel1732430000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE migrations (
        migration_id    text        NOT NULL PRIMARY KEY,
        tenant_id       text,
        fd_id           text        NOT NULL,
        source_host_id  text        NOT NULL,
        target_host_id  text        NOT NULL,
        state           text        NOT NULL CHECK (state IN ('running', 'completed', 'aborted')),
        target_fd_id    text,
        reason          text,
        started_at      timestamptz NOT NULL,
        ended_at        timestamptz
      )`);
    // The start-up recovery looks for these only.
    await q.query(`CREATE INDEX migrations_running_idx ON migrations (started_at) WHERE state = 'running'`);

    // One event's effect on its migration. The source's MigrationStarted opens the row; the
    // target's FdImported names the target fd; the source's FdMigratedOut or MigrationAborted
    // ends it. The tenant comes from the envelope, or from the fd directory for an operator's
    // event that carries none.
    await q.query(`
      CREATE FUNCTION migrations_apply(p_host_id text, p_type text, p_data jsonb, p_tenant_id text, p_occurred_at timestamptz)
      RETURNS void LANGUAGE plpgsql AS $$
      BEGIN
        IF p_type = 'MigrationStarted' THEN
          INSERT INTO migrations (migration_id, tenant_id, fd_id, source_host_id, target_host_id, state, started_at)
          VALUES (
            p_data->>'migrationId',
            COALESCE(p_tenant_id, (SELECT tenant_id FROM fd_directory WHERE fd_id = p_data->>'fdId')),
            p_data->>'fdId', p_host_id, p_data->>'targetHostId', 'running', p_occurred_at)
          ON CONFLICT (migration_id) DO NOTHING;
        ELSIF p_type = 'FdImported' THEN
          UPDATE migrations SET target_fd_id = p_data->>'fdId' WHERE migration_id = p_data->>'migrationId';
        ELSIF p_type = 'FdMigratedOut' THEN
          UPDATE migrations SET state = 'completed', target_fd_id = p_data->>'targetFdId', ended_at = p_occurred_at
           WHERE migration_id = p_data->>'migrationId';
        ELSIF p_type = 'MigrationAborted' THEN
          UPDATE migrations SET state = 'aborted', reason = p_data->>'reason', ended_at = p_occurred_at
           WHERE migration_id = p_data->>'migrationId';
        END IF;
      END $$`);
    await q.query(`
      CREATE FUNCTION migrations_on_event() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        PERFORM migrations_apply(NEW.host_id, NEW.type, NEW.data::jsonb, NEW.tenant_id, NEW.occurred_at);
        RETURN NULL;
      END $$`);
    await q.query(`
      CREATE TRIGGER migrations_on_event AFTER INSERT ON events
      FOR EACH ROW WHEN (NEW.type IN ('MigrationStarted', 'FdImported', 'FdMigratedOut', 'MigrationAborted'))
      EXECUTE FUNCTION migrations_on_event()`);

    // In commit order (position), so that each migration's start comes before its import and its end.
    await q.query(`
      DO $$
      DECLARE e record;
      BEGIN
        FOR e IN SELECT host_id, type, data, tenant_id, occurred_at FROM events
                  WHERE type IN ('MigrationStarted', 'FdImported', 'FdMigratedOut', 'MigrationAborted')
                  ORDER BY position LOOP
          PERFORM migrations_apply(e.host_id, e.type, e.data::jsonb, e.tenant_id, e.occurred_at);
        END LOOP;
      END $$`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TRIGGER IF EXISTS migrations_on_event ON events`);
    await q.query(`DROP FUNCTION IF EXISTS migrations_on_event()`);
    await q.query(`DROP FUNCTION IF EXISTS migrations_apply(text, text, jsonb, text, timestamptz)`);
    await q.query(`DROP TABLE IF EXISTS migrations`);
  }
}
