import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { HostCommandRunner } from '../../src/application/host-command-runner';
import { MigrationPreflight } from '../../src/application/migration/migration-preflight';
import { MigrationProcess } from '../../src/application/migration/migration-process';
import { INTERRUPTED_REASON } from '../../src/application/migration/migration-recovery';
import { OPERATOR } from '../../src/application/principal';
import type { RequestMeta } from '../../src/application/request-meta';
import type { HostCommand } from '../../src/model/commands';
import { HardwareProjector } from '../../src/projections/hardware.projector';
import { DomainError } from '../../src/model/errors';
import { createTenant, expectError, expectStatus, postgresBackend, startTestApp, unique, type TenantHandle, type TestApp, type TestBackend } from '../support/app';
import {
  DEVICE_MAP,
  TARGET_RIDS,
  assertVerified,
  enqcmdVm,
  guestVisible,
  hostFingerprint,
  openFdsOfVm,
  registerSource,
  registerTarget,
} from './migration-fixtures';

function operatorMeta(): RequestMeta {
  const commandId = randomUUID();
  return { principal: OPERATOR, commandId, correlationId: commandId };
}

/**
 * What the HTTP tests cannot time: a change on the target between the checks and the import,
 * a process stalled mid-migration while another replica's recovery settles it, and an import
 * whose answer is lost. The steps are intercepted inside a running app (HostCommandRunner),
 * against the same store and handlers as a request; the other replica is a second app on the
 * same database.
 */
describe('migration process under races', () => {
  let backend: TestBackend;
  let app: TestApp;
  let tenant: TenantHandle;

  before(async () => {
    backend = await postgresBackend();
    app = await startTestApp(backend.env);
    tenant = await createTenant(app.operator);
  });
  after(async () => {
    await app?.close();
    await backend?.dispose();
  });

  it('rolls back when the target changed after the checks: the import is refused, the source unfrozen, the target untouched', async () => {
    const op = app.operator;
    const sourceHost = await registerSource(op);
    const targetHost = await registerTarget(op);
    const fdId = await enqcmdVm(tenant.client, sourceHost);
    const fdBefore = (await tenant.client.get(`/v1/fds/${fdId}`)).body;
    const sourceHwBefore = (await op.get(`/v1/hosts/${sourceHost}/hardware?version=${fdBefore.version}`)).body;

    const plan = await app.started.app.get(MigrationPreflight).check({ fdId, targetHostId: targetHost, deviceMap: DEVICE_MAP }, operatorMeta());
    // Another VM takes a target device after the checks passed.
    const squatter = await tenant.client.post('/v1/fds', { hostId: targetHost, vmId: unique('squatter') });
    const squatterFd = `/v1/fds/${squatter.body.fdId}`;
    expectStatus(await tenant.client.put(`${squatterFd}/hwid-mode`, { mode: 'local' }), 200);
    expectStatus(await tenant.client.post(`${squatterFd}/ioasids`), 201);
    expectStatus(await tenant.client.post(`${squatterFd}/ioasids/1/attachments`, { rid: TARGET_RIDS[0] }), 201);
    const targetBefore = await hostFingerprint(op, targetHost);

    await assert.rejects(app.started.app.get(MigrationProcess).run(plan, operatorMeta()), (e: unknown) => e instanceof DomainError && e.code === 'DEVICE_BUSY');

    const sourceEvents = await op.get(`/v1/events?hostId=${sourceHost}&fdId=${fdId}`);
    const last = sourceEvents.body.events.slice(-2);
    assert.deepEqual(last.map((e: { type: string }) => e.type), ['MigrationStarted', 'MigrationAborted']);
    assert.match(last[1].data.reason, /^DEVICE_BUSY: /);
    const record = await op.get(`/v1/migrations/${plan.migrationId}`);
    assert.equal(record.body.state, 'aborted');
    assert.match(record.body.reason, /^DEVICE_BUSY: /);

    const fdAfter = (await tenant.client.get(`/v1/fds/${fdId}`)).body;
    assert.equal(fdAfter.migratingTo, undefined);
    assert.deepEqual(guestVisible(fdAfter), guestVisible(fdBefore));
    assert.deepEqual(fdAfter.kvmMappings, fdBefore.kvmMappings);
    const sourceHwAfter = (await op.get(`/v1/hosts/${sourceHost}/hardware?version=${fdAfter.version}`)).body;
    assert.deepEqual([sourceHwAfter.rids, sourceHwAfter.vms, sourceHwAfter.allocator], [sourceHwBefore.rids, sourceHwBefore.vms, sourceHwBefore.allocator]);
    assert.deepEqual(await hostFingerprint(op, targetHost), targetBefore);
    await assertVerified(op, sourceHost);
    await assertVerified(op, targetHost);
  });

  /** Sets up an ENQCMD VM on a source and an empty target; the target's fingerprint before any migration. */
  async function vmToMigrate() {
    const op = app.operator;
    const sourceHost = await registerSource(op);
    const targetHost = await registerTarget(op);
    const fdId = await enqcmdVm(tenant.client, sourceHost);
    const fdBefore = (await tenant.client.get(`/v1/fds/${fdId}`)).body;
    return { op, sourceHost, targetHost, fdId, fdBefore, targetBefore: await hostFingerprint(op, targetHost) };
  }

  /**
   * Another replica on the same database, taking every running migration for stale: its
   * start-up sweep settles them before it resolves. Its events reach this app's projector
   * through the store only (no Kafka here), so that catches up once the replica is gone.
   */
  async function recoverOnAnotherReplica(): Promise<void> {
    const replica = await startTestApp({ ...backend.env, MIGRATION_STALE_MS: '0' });
    await replica.close();
    await app.started.app.get(HardwareProjector).catchUpNow();
  }

  async function eventsOf(hostId: string, type: string): Promise<any[]> {
    const res = await app.operator.get(`/v1/events?hostId=${hostId}&type=${type}`);
    expectStatus(res, 200);
    return res.body.events;
  }

  it('fences off a stalled process: recovery bars its import and unfreezes the source, the late import is refused and the client told', async () => {
    const { op, sourceHost, targetHost, fdId, fdBefore, targetBefore } = await vmToMigrate();
    const stall = stallBefore(app, 'ImportFd', fdId);
    const answer = tenant.client.post(`/v1/fds/${fdId}/migrations`, { targetHostId: targetHost, deviceMap: DEVICE_MAP });
    try {
      await stall.reached;
      // Frozen meanwhile: every change answers FD_MIGRATING, a second migration included.
      expectError(await tenant.client.post(`/v1/fds/${fdId}/ioasids`), 409, 'FD_MIGRATING');
      expectError(await tenant.client.post(`/v1/fds/${fdId}/migrations`, { targetHostId: targetHost, deviceMap: DEVICE_MAP }), 409, 'FD_MIGRATING');
      const [started] = await eventsOf(sourceHost, 'MigrationStarted');
      const migrationId: string = started.data.migrationId;

      await recoverOnAnotherReplica();
      const settled = await tenant.client.get(`/v1/migrations/${migrationId}`);
      assert.equal(settled.body.state, 'aborted', settled.text);
      assert.equal(settled.body.reason, INTERRUPTED_REASON);
      assert.equal((await tenant.client.get(`/v1/fds/${fdId}`)).body.migratingTo, undefined, 'the source is unfrozen before the stalled process wakes up');

      stall.release();
      const late = await answer;
      expectError(late, 409, 'VERSION_CONFLICT');
      assert.match(late.body.error.message, /aborted by another process/);
      assert.equal(late.body.error.details.migrationId, migrationId);

      assert.deepEqual(await eventsOf(targetHost, 'FdImported'), [], 'the target never imported the fd');
      assert.deepEqual((await eventsOf(targetHost, 'MigrationImportBarred')).map((e) => e.data), [{ migrationId, sourceHostId: sourceHost, sourceFdId: fdId }]);
      assert.equal((await hostFingerprint(op, targetHost)).hash, targetBefore.hash, 'the bar changes no hardware');
      const aborts = await eventsOf(sourceHost, 'MigrationAborted');
      assert.equal(aborts.length, 1, 'the source was unfrozen once');
      const fdAfter = (await tenant.client.get(`/v1/fds/${fdId}`)).body;
      assert.deepEqual(guestVisible(fdAfter), guestVisible(fdBefore));
      assert.deepEqual(fdAfter.kvmMappings, fdBefore.kvmMappings);
      assert.deepEqual((await openFdsOfVm(tenant.client, fdBefore.vmId)).map((fd) => fd.hostId), [sourceHost], 'live on the source only');
      expectStatus(await tenant.client.post(`/v1/fds/${fdId}/ioasids`), 201);
      assert.equal((await tenant.client.get(`/v1/migrations/${migrationId}`)).body.state, 'aborted');
      await assertVerified(op, sourceHost);
      await assertVerified(op, targetHost);
    } finally {
      stall.release();
      stall.restore();
      await answer.catch(() => undefined);
    }
  });

  it('rolls a stalled migration forward once its import committed: recovery completes it, the late completion answers success', async () => {
    const { op, sourceHost, targetHost, fdId, fdBefore } = await vmToMigrate();
    const stall = stallBefore(app, 'CompleteMigration', fdId);
    const request = { targetHostId: targetHost, deviceMap: DEVICE_MAP };
    const keyed = { headers: { 'idempotency-key': `migrate-${fdId}` } };
    const answer = tenant.client.post(`/v1/fds/${fdId}/migrations`, request, keyed);
    try {
      await stall.reached;
      const [imported] = await eventsOf(targetHost, 'FdImported');
      const { migrationId, fdId: targetFdId } = imported.data;

      await recoverOnAnotherReplica();
      const settled = await tenant.client.get(`/v1/migrations/${migrationId}`);
      assert.equal(settled.body.state, 'completed', settled.text);
      assert.equal(settled.body.targetFdId, targetFdId);

      stall.release();
      const late = await answer;
      expectStatus(late, 201);
      assert.deepEqual(late.body, { migrationId, state: 'completed', targetFdId });
      const repeat = await tenant.client.post(`/v1/fds/${fdId}/migrations`, request, keyed);
      expectStatus(repeat, 201);
      assert.deepEqual(repeat.body, late.body, 'a repeat of the key gets the late answer, though recovery made the write');

      assert.deepEqual(await eventsOf(targetHost, 'MigrationImportBarred'), [], 'the bar was refused: the import had won');
      assert.equal((await eventsOf(sourceHost, 'FdMigratedOut')).length, 1, 'the source was released once');
      assert.equal((await tenant.client.get(`/v1/fds/${fdId}`)).status, 404, 'the source fd is released');
      const target = (await tenant.client.get(`/v1/fds/${targetFdId}`)).body;
      assert.deepEqual(guestVisible(target), guestVisible(fdBefore, DEVICE_MAP));
      assert.deepEqual((await openFdsOfVm(tenant.client, fdBefore.vmId)).map((fd) => fd.hostId), [targetHost], 'live on the target only');
      await assertVerified(op, sourceHost);
      await assertVerified(op, targetHost);
    } finally {
      stall.release();
      stall.restore();
      await answer.catch(() => undefined);
    }
  });

  it('settles an import whose answer was lost through the fence: completed if it had committed', async () => {
    const { op, sourceHost, targetHost, fdId } = await vmToMigrate();
    const restore = interceptSteps(app, async (message, run) => {
      if (message.command.type !== 'ImportFd' || message.command.sourceFdId !== fdId) return run();
      await run();
      throw new DomainError('UNAVAILABLE', 'connection lost after the commit');
    });
    try {
      const res = await tenant.client.post(`/v1/fds/${fdId}/migrations`, { targetHostId: targetHost, deviceMap: DEVICE_MAP });
      expectStatus(res, 201);
      assert.equal(res.body.state, 'completed');
      assert.deepEqual(await eventsOf(targetHost, 'MigrationImportBarred'), []);
      assert.equal((await tenant.client.get(`/v1/fds/${res.body.targetFdId}`)).body.hostId, targetHost);
    } finally {
      restore();
    }
    await assertVerified(op, sourceHost);
    await assertVerified(op, targetHost);
  });

  it('settles an import whose answer was lost through the fence: barred and aborted if it had not committed', async () => {
    const { op, sourceHost, targetHost, fdId, targetBefore } = await vmToMigrate();
    const restore = interceptSteps(app, async (message, run) => {
      if (message.command.type !== 'ImportFd' || message.command.sourceFdId !== fdId) return run();
      throw new DomainError('UNAVAILABLE', 'connection lost before the commit');
    });
    try {
      expectError(await tenant.client.post(`/v1/fds/${fdId}/migrations`, { targetHostId: targetHost, deviceMap: DEVICE_MAP }), 503, 'UNAVAILABLE');
    } finally {
      restore();
    }
    const [barred] = await eventsOf(targetHost, 'MigrationImportBarred');
    assert.ok(barred, 'the import is barred before the source is unfrozen');
    assert.equal((await tenant.client.get(`/v1/migrations/${barred.data.migrationId}`)).body.state, 'aborted');
    assert.equal((await tenant.client.get(`/v1/fds/${fdId}`)).body.migratingTo, undefined);
    assert.equal((await hostFingerprint(op, targetHost)).hash, targetBefore.hash);
    await assertVerified(op, sourceHost);
    await assertVerified(op, targetHost);
  });
});

type StepHook = (step: { command: HostCommand }, run: () => Promise<unknown>) => Promise<unknown>;

/** Routes the app's host command steps through `hook` (a lost connection, a stall); returns the restore. */
function interceptSteps(app: TestApp, hook: StepHook): () => void {
  const runner = app.started.app.get(HostCommandRunner);
  const original = runner.run;
  runner.run = (command: HostCommand, meta: RequestMeta, hostId?: string) => hook({ command }, () => original.call(runner, command, meta, hostId));
  return () => {
    runner.run = original;
  };
}

/**
 * Holds the first `type` step of the migration of source fd `fdId` until released: a process
 * stalled just before it (a long GC pause, a partitioned network), alive, and resuming later.
 */
function stallBefore(app: TestApp, type: 'ImportFd' | 'CompleteMigration', fdId: string) {
  let reached!: () => void;
  let release!: () => void;
  const atStep = new Promise<void>((resolve) => (reached = resolve));
  const released = new Promise<void>((resolve) => (release = resolve));
  const restore = interceptSteps(app, async (message, run) => {
    const { command } = message;
    const source = command.type === 'ImportFd' ? command.sourceFdId : command.type === 'CompleteMigration' ? command.fdId : undefined;
    if (command.type === type && source === fdId) {
      reached();
      await released;
    }
    return run();
  });
  return { reached: atStep, release, restore };
}
