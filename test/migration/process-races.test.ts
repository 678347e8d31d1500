import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { CommandBus } from '@nestjs/cqrs';
import { HostStates } from '../../src/application/host-states';
import { RunHostCommand } from '../../src/application/messages';
import { MigrateFdCommand } from '../../src/application/migration/messages';
import { importCommand, startCommand, abortCommand, type MigrationPlan } from '../../src/application/migration/migration-plan';
import { MigrationPreflight } from '../../src/application/migration/migration-preflight';
import { MigrationProcess } from '../../src/application/migration/migration-process';
import { OPERATOR } from '../../src/application/principal';
import type { RequestMeta } from '../../src/application/request-meta';
import { exportFd } from '../../src/domain';
import { DomainError } from '../../src/domain/errors';
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
  return { principal: OPERATOR, commandId, correlationId: commandId, requestFingerprint: commandId };
}

/**
 * What the HTTP tests cannot time: a change on the target between the checks and the import,
 * and a migration aborted by another process while this one imported. The process manager is
 * driven inside a running app, against the same store and handlers as a request.
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

    const plan = await app.started.app.get(MigrationPreflight).check(new MigrateFdCommand(fdId, targetHost, DEVICE_MAP, operatorMeta()));
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

  it('closes its import when another process aborted the migration meanwhile: the VM stays live on the source only', async () => {
    const op = app.operator;
    const sourceHost = await registerSource(op);
    const targetHost = await registerTarget(op);
    const fdId = await enqcmdVm(tenant.client, sourceHost);
    const vmId = (await tenant.client.get(`/v1/fds/${fdId}`)).body.vmId;
    const commands = app.started.app.get(CommandBus);
    const states = app.started.app.get(HostStates);
    const plan: MigrationPlan = {
      migrationId: randomUUID(),
      fdId,
      tenantId: tenant.tenantId,
      sourceHostId: sourceHost,
      targetHostId: targetHost,
      targetFdId: randomUUID(),
      deviceMap: DEVICE_MAP,
    };

    await commands.execute(new RunHostCommand(startCommand(plan), operatorMeta(), 200));
    // Frozen: every change answers FD_MIGRATING, a second migration included, and nothing moves.
    const frozen = await hostFingerprint(op, sourceHost);
    assert.equal((await tenant.client.get(`/v1/fds/${fdId}`)).body.migratingTo, targetHost);
    expectError(await tenant.client.post(`/v1/fds/${fdId}/ioasids`), 409, 'FD_MIGRATING');
    expectError(await tenant.client.put(`/v1/fds/${fdId}/kvm-pasid-mappings/5`, { hostPasid: 1024 }), 409, 'FD_MIGRATING');
    expectError(await tenant.client.post(`/v1/fds/${fdId}/migrations`, { targetHostId: targetHost, deviceMap: DEVICE_MAP }), 409, 'FD_MIGRATING');
    assert.deepEqual(await hostFingerprint(op, sourceHost), frozen);
    const image = await states.exclusive(sourceHost, async () => exportFd(await states.current(sourceHost), fdId));
    await commands.execute(new RunHostCommand(importCommand(plan, image), operatorMeta(), 201, targetHost));
    // A replica starting up takes the migration for an orphan and aborts it.
    await commands.execute(new RunHostCommand(abortCommand(plan, 'interrupted'), operatorMeta(), 200));

    await assert.rejects(
      app.started.app.get(MigrationProcess).complete(plan, plan.targetFdId, operatorMeta()),
      (e: unknown) => e instanceof DomainError && e.code === 'NOT_FOUND',
    );
    assert.equal((await tenant.client.get(`/v1/fds/${plan.targetFdId}`)).status, 404, 'the imported copy is closed');
    assert.deepEqual((await openFdsOfVm(tenant.client, vmId)).map((fd) => fd.hostId), [sourceHost]);
    assert.equal((await tenant.client.get(`/v1/fds/${fdId}`)).body.migratingTo, undefined);
    const record = await op.get(`/v1/migrations/${plan.migrationId}`);
    assert.equal(record.body.state, 'aborted');
    await assertVerified(op, sourceHost);
    await assertVerified(op, targetHost);
  });
});
