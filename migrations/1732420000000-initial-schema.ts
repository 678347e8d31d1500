import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The first schema: host event streams with their outbox, the directories that let reads
 * avoid loading streams (hosts, fds), tenants, idempotency records, snapshots and the
 * hardware projection with its checkpoint. Same SQL on PostgreSQL and PGlite.
 */
export class InitialSchema1732420000000 implements MigrationInterface {
  name = 'InitialSchema1732420000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE events (
        position        bigserial   NOT NULL,
        host_id         text        NOT NULL,
        version         integer     NOT NULL CHECK (version >= 1),
        event_id        uuid        NOT NULL,
        type            text        NOT NULL,
        schema_version  integer     NOT NULL,
        data            jsonb       NOT NULL,
        tenant_id       text,
        fd_id           text,
        actor           text        NOT NULL,
        command_id      text        NOT NULL,
        correlation_id  text        NOT NULL,
        occurred_at     timestamptz NOT NULL,
        prev_hash       text        NOT NULL,
        hash            text        NOT NULL,
        CONSTRAINT events_pkey PRIMARY KEY (host_id, version),
        CONSTRAINT events_position_key UNIQUE (position),
        CONSTRAINT events_event_id_key UNIQUE (event_id)
      )`);
    // Audit filters page by global position.
    await q.query(`CREATE INDEX events_host_position_idx ON events (host_id, position)`);
    await q.query(`CREATE INDEX events_fd_position_idx ON events (fd_id, position) WHERE fd_id IS NOT NULL`);
    await q.query(`CREATE INDEX events_type_position_idx ON events (type, position)`);
    await q.query(`CREATE INDEX events_tenant_position_idx ON events (tenant_id, position) WHERE tenant_id IS NOT NULL`);
    // Replays "as of time T" find the last version committed before T.
    await q.query(`CREATE INDEX events_host_occurred_idx ON events (host_id, occurred_at)`);

    await q.query(`
      CREATE TABLE outbox (
        host_id     text        NOT NULL,
        version     integer     NOT NULL,
        created_at  timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT outbox_pkey PRIMARY KEY (host_id, version)
      )`);

    // One row per stream: its head version is the optimistic-concurrency guard of appends;
    // spec is the HostRegistered data, so listing hosts reads no stream.
    await q.query(`
      CREATE TABLE hosts (
        host_id        text        NOT NULL PRIMARY KEY,
        version        integer     NOT NULL,
        spec           jsonb,
        registered_at  timestamptz NOT NULL DEFAULT now()
      )`);

    await q.query(`
      CREATE TABLE fd_directory (
        fd_id       text        NOT NULL PRIMARY KEY,
        host_id     text        NOT NULL,
        tenant_id   text        NOT NULL,
        vm_id       text        NOT NULL,
        open        boolean     NOT NULL,
        updated_at  timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`CREATE INDEX fd_directory_tenant_idx ON fd_directory (tenant_id, host_id) WHERE open`);
    await q.query(`CREATE INDEX fd_directory_host_idx ON fd_directory (host_id) WHERE open`);

    await q.query(`
      CREATE TABLE tenants (
        tenant_id   text        NOT NULL PRIMARY KEY,
        name        text        NOT NULL,
        quotas      jsonb       NOT NULL,
        token_hash  text        NOT NULL CHECK (token_hash ~ '^[0-9a-f]{64}$'),
        created_at  timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT tenants_name_key UNIQUE (name),
        CONSTRAINT tenants_token_hash_key UNIQUE (token_hash)
      )`);

    await q.query(`
      CREATE TABLE idempotency (
        scope        text        NOT NULL,
        key          text        NOT NULL,
        fingerprint  text        NOT NULL,
        status       integer     NOT NULL,
        body         jsonb,
        created_at   timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT idempotency_pkey PRIMARY KEY (scope, key)
      )`);
    await q.query(`CREATE INDEX idempotency_created_idx ON idempotency (created_at)`);

    await q.query(`
      CREATE TABLE snapshots (
        host_id     text        NOT NULL,
        version     integer     NOT NULL,
        state       jsonb       NOT NULL,
        created_at  timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT snapshots_pkey PRIMARY KEY (host_id, version)
      )`);

    await q.query(`
      CREATE TABLE projection_checkpoints (
        projector   text        NOT NULL,
        host_id     text        NOT NULL,
        version     integer     NOT NULL,
        hash        text        NOT NULL,
        updated_at  timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT projection_checkpoints_pkey PRIMARY KEY (projector, host_id)
      )`);

    // The answer of GET /hardware, ready to serve, plus the hardware snapshot the projector restarts from.
    await q.query(`
      CREATE TABLE hardware_projection (
        host_id        text        NOT NULL PRIMARY KEY,
        version        integer     NOT NULL,
        hash           text        NOT NULL,
        pasids_in_use  integer     NOT NULL,
        view           jsonb       NOT NULL,
        snapshot       jsonb       NOT NULL,
        updated_at     timestamptz NOT NULL DEFAULT now()
      )`);
  }

  async down(q: QueryRunner): Promise<void> {
    for (const table of [
      'hardware_projection',
      'projection_checkpoints',
      'snapshots',
      'idempotency',
      'tenants',
      'fd_directory',
      'hosts',
      'outbox',
      'events',
    ]) {
      await q.query(`DROP TABLE IF EXISTS ${table}`);
    }
  }
}
