import assert from 'node:assert/strict';
import { after, afterEach, describe, it } from 'node:test';
import { ApiClient, createTenant, expectStatus, type TenantHandle } from '../support/app';
import { createTestDatabase, type TestDatabase } from '../support/postgres';
import { startServer, waitFor200, type ServerProcess } from '../support/server-process';
import {
  DEVICE_MAP,
  assertVerified,
  enqcmdVm,
  guestVisible,
  hostFingerprint,
  occupyGlobalPool,
  openFdsOfVm,
  registerSource,
  registerTarget,
} from './migration-fixtures';

const TOKEN = 'crash-test-operator-token-0123456789';

/**
 * The real server (`node dist/src/main.js`) is killed with SIGKILL right after a migration
 * step commits (the test-only MIGRATION_CRASH_AFTER switch); the next process on the same
 * database finishes or rolls the migration back before it serves, and the VM is live on
 * exactly one host.
 */
describe('a migration interrupted by a crash', () => {
  const databases: TestDatabase[] = [];
  let server: ServerProcess | undefined;

  async function boot(db: TestDatabase, extra: Record<string, string> = {}): Promise<ApiClient> {
    server = await startServer({ DATABASE_URL: db.url, OPERATOR_TOKEN: TOKEN, LOG_LEVEL: 'error', ...extra });
    await waitFor200(server, '/healthz');
    return new ApiClient(server.url, TOKEN);
  }

  async function stop(): Promise<void> {
    if (!server) return;
    const running = server;
    server = undefined;
    if (running.child.exitCode === null && running.child.signalCode === null) running.child.kill('SIGTERM');
    await running.exited;
  }

  afterEach(stop);
  after(async () => {
    await stop();
    for (const db of databases) await db.drop();
  });

  interface Crashed {
    op: ApiClient;
    tenant: TenantHandle;
    sourceHost: string;
    targetHost: string;
    fdId: string;
    fdBefore: any;
    targetBefore: { version: number; hash: string };
    migrationId: string;
  }

  /**
   * Sets up an ENQCMD VM and a partly used target, migrates with the switch set to `step`, and
   * restarts after the kill, by default taking every running migration for orphaned at once.
   */
  async function crashAfter(step: 'started' | 'imported', restartEnv: Record<string, string> = { MIGRATION_STALE_MS: '0' }): Promise<Crashed> {
    const db = await createTestDatabase('ioasid_migration_crash');
    databases.push(db);
    let op = await boot(db, { MIGRATION_CRASH_AFTER: step });
    const tenant = await createTenant(op);
    const sourceHost = await registerSource(op);
    const targetHost = await registerTarget(op);
    await occupyGlobalPool(tenant.client, targetHost, 2);
    const fdId = await enqcmdVm(tenant.client, sourceHost);
    const fdBefore = (await tenant.client.get(`/v1/fds/${fdId}`)).body;
    const targetBefore = await hostFingerprint(op, targetHost);

    await assert.rejects(tenant.client.post(`/v1/fds/${fdId}/migrations`, { targetHostId: targetHost, deviceMap: DEVICE_MAP }), 'the process dies before answering');
    const exit = await server!.exited;
    assert.equal(exit.signal, 'SIGKILL', `the server killed itself after "${step}": ${server!.stderr()}`);
    server = undefined;

    op = await boot(db, restartEnv);
    const started = await op.get(`/v1/events?hostId=${sourceHost}&type=MigrationStarted`);
    expectStatus(started, 200);
    assert.equal(started.body.events.length, 1, 'the freeze had committed before the kill');
    return {
      op,
      tenant: { ...tenant, client: op.as(tenant.token) },
      sourceHost,
      targetHost,
      fdId,
      fdBefore,
      targetBefore,
      migrationId: started.body.events[0].data.migrationId,
    };
  }

  it('rolls back when the process died after freezing the source: the source runs on, the target is untouched', async () => {
    const { op, tenant, sourceHost, targetHost, fdId, fdBefore, targetBefore, migrationId } = await crashAfter('started');

    const record = await tenant.client.get(`/v1/migrations/${migrationId}`);
    expectStatus(record, 200);
    assert.equal(record.body.state, 'aborted');
    assert.match(record.body.reason, /interrupted/);
    assert.equal(record.body.targetFdId, undefined);
    assert.ok(record.body.endedAt, record.text);

    const fd = await tenant.client.get(`/v1/fds/${fdId}`);
    expectStatus(fd, 200);
    assert.equal(fd.body.migratingTo, undefined, 'the source fd is unfrozen');
    assert.deepEqual(guestVisible(fd.body), guestVisible(fdBefore));
    assert.deepEqual(fd.body.kvmMappings, fdBefore.kvmMappings, 'the source keeps its host PASIDs');
    // The recovery barred the import there before unfreezing the source: one event, no hardware change.
    assert.deepEqual(await hostFingerprint(op, targetHost), { ...targetBefore, version: targetBefore.version + 1 }, 'no import reached the target');
    const barred = await op.get(`/v1/events?hostId=${targetHost}&afterVersion=${targetBefore.version}`);
    assert.deepEqual(
      barred.body.events.map((e: any) => [e.type, e.data]),
      [['MigrationImportBarred', { migrationId, sourceHostId: sourceHost, sourceFdId: fdId }]],
    );
    assert.deepEqual((await openFdsOfVm(tenant.client, fdBefore.vmId)).map((f) => f.hostId), [sourceHost], 'live on exactly one host');
    expectStatus(await tenant.client.post(`/v1/fds/${fdId}/ioasids`), 201);

    await assertVerified(op, sourceHost);
    await assertVerified(op, targetHost);
  });

  it('leaves a migration that may belong to a live replica alone until it is stale, then rolls it back', async () => {
    const { tenant, fdId, migrationId } = await crashAfter('started', { MIGRATION_STALE_MS: '3600000' });
    const fresh = await tenant.client.get(`/v1/migrations/${migrationId}`);
    expectStatus(fresh, 200);
    assert.equal(fresh.body.state, 'running', 'a replica starting up does not touch a migration younger than MIGRATION_STALE_MS');
    const frozen = await tenant.client.post(`/v1/fds/${fdId}/ioasids`);
    assert.equal(frozen.status, 409);
    assert.equal(frozen.body.error.code, 'FD_MIGRATING');

    await stop();
    const db = databases[databases.length - 1]!;
    const restarted = await boot(db, { MIGRATION_STALE_MS: '1' });
    const settled = await restarted.as(tenant.token).get(`/v1/migrations/${migrationId}`);
    expectStatus(settled, 200);
    assert.equal(settled.body.state, 'aborted', 'once stale, the next sweep rolls it back');
    expectStatus(await restarted.as(tenant.token).post(`/v1/fds/${fdId}/ioasids`), 201);
  });

  it('completes when the process died after the target imported: the target runs, the source is released', async () => {
    const { op, tenant, sourceHost, targetHost, fdId, fdBefore, migrationId } = await crashAfter('imported');

    const record = await tenant.client.get(`/v1/migrations/${migrationId}`);
    expectStatus(record, 200);
    assert.equal(record.body.state, 'completed');
    const targetFdId: string = record.body.targetFdId;
    assert.ok(targetFdId, record.text);

    const source = await tenant.client.get(`/v1/fds/${fdId}`);
    assert.equal(source.status, 404, 'the source fd is released');
    const target = await tenant.client.get(`/v1/fds/${targetFdId}`);
    expectStatus(target, 200);
    assert.equal(target.body.hostId, targetHost);
    assert.deepEqual(guestVisible(target.body), guestVisible(fdBefore, DEVICE_MAP));
    assert.deepEqual((await openFdsOfVm(tenant.client, fdBefore.vmId)).map((f) => f.hostId), [targetHost], 'live on exactly one host');

    await assertVerified(op, sourceHost);
    await assertVerified(op, targetHost);
  });

  it('refuses an unknown crash step at start, so a typo cannot disable a crash test', async () => {
    const db = await createTestDatabase('ioasid_migration_crash');
    databases.push(db);
    server = await startServer({ DATABASE_URL: db.url, OPERATOR_TOKEN: TOKEN, LOG_LEVEL: 'error', MIGRATION_CRASH_AFTER: 'imported-typo' });
    const exit = await server.exited;
    assert.equal(exit.code, 1);
    assert.match(server.stderr() + server.stdout(), /MIGRATION_CRASH_AFTER/);
  });
});
