import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  createTenant,
  documentCheck,
  expectError,
  expectStatus,
  pgliteBackend,
  postgresBackend,
  startTestApp,
  type TenantHandle,
  type TestApp,
  type TestBackend,
} from '../support/app';
import {
  DEVICE_MAP,
  SPLIT,
  TARGET_RIDS,
  assertVerified,
  enqcmdVm,
  entriesOf,
  guestVisible,
  hostFingerprint,
  liveHardware,
  occupyGlobalPool,
  openFdsOfVm,
  registerSource,
  registerTarget,
} from './migration-fixtures';

/**
 * DOMAIN.md operation 12 end to end over HTTP: an ENQCMD VM moves to a host whose global pool
 * is partly used by another VM. The guest sees the same state; the host sees new PASIDs.
 * On PostgreSQL, and on the embedded PGlite default (whose schema includes the read model's trigger).
 */
const backends: Array<[string, () => Promise<TestBackend>]> = [
  ['PostgreSQL', postgresBackend],
  ['embedded PGlite', pgliteBackend],
];

for (const [backendName, makeBackend] of backends) {
  describe(`migrating an ENQCMD VM between hosts on ${backendName}`, () => {
    let backend: TestBackend;
    let app: TestApp;
    let tenant: TenantHandle;

    before(async () => {
      backend = await makeBackend();
      app = await startTestApp(backend.env);
      // Every answer of the migration scenario is also checked against the OpenAPI document.
      app.operator = app.operator.checkedBy(await documentCheck(app.url));
      tenant = await createTenant(app.operator);
    });
    after(async () => {
      await app?.close();
      await backend?.dispose();
    });

    it('re-creates the guest-visible fd on the target with new global PASIDs and KVM mappings, and releases the source', async () => {
      const op = app.operator;
      const sourceHost = await registerSource(op);
      const targetHost = await registerTarget(op);
      const neighbourPasids = await occupyGlobalPool(tenant.client, targetHost, 3);
      const fdId = await enqcmdVm(tenant.client, sourceHost);
      const before = (await tenant.client.get(`/v1/fds/${fdId}`)).body;
      const sourceGlobals = before.ioasids.map((io: { globalPasid: number }) => io.globalPasid);
      const targetBefore = await liveHardware(op, targetHost);

      const migrated = await tenant.client.post(`/v1/fds/${fdId}/migrations`, { targetHostId: targetHost, deviceMap: DEVICE_MAP });
      expectStatus(migrated, 201);
      assert.equal(migrated.body.state, 'completed');
      assert.match(migrated.body.migrationId, /^[0-9a-f-]{36}$/);
      const targetFdId: string = migrated.body.targetFdId;
      assert.notEqual(targetFdId, fdId);

      // The guest sees exactly what it saw, on the target's devices.
      const after = await tenant.client.get(`/v1/fds/${targetFdId}`);
      expectStatus(after, 200);
      assert.equal(after.body.hostId, targetHost);
      assert.deepEqual(guestVisible(after.body), guestVisible(before, DEVICE_MAP));
      assert.equal(after.body.migratingTo, undefined);

      // New global PASIDs from the target's pool, none of them the neighbour's.
      const targetGlobals: number[] = after.body.ioasids.map((io: { globalPasid: number }) => io.globalPasid);
      for (const pasid of targetGlobals) {
        assert.ok(pasid >= SPLIT && pasid < 2 ** 20, `global PASID ${pasid} lies above the split`);
        assert.ok(!neighbourPasids.includes(pasid), `global PASID ${pasid} is not the neighbour's`);
      }
      assert.equal(new Set(targetGlobals).size, 2);
      assert.notDeepEqual(targetGlobals, sourceGlobals, 'the target re-allocated: the source PASIDs are the neighbour PASIDs there');
      assert.deepEqual(
        after.body.kvmMappings,
        [5, 9].map((guestPasid, i) => ({ guestPasid, hostPasid: targetGlobals[i] })),
      );

      // The target hardware: entries at the new global PASIDs (and the local one for the non-enqcmd attachment), KVM re-pointed.
      const targetHw = await liveHardware(op, targetHost);
      const programmed = entriesOf(targetHw, targetFdId)
        .map(({ rid, pasid, entry }) => `${rid}@${pasid}:${entry.origin}:${entry.firstStageGpa}`)
        .sort();
      assert.deepEqual(
        programmed,
        [
          `${TARGET_RIDS[0]}@${targetGlobals[0]}:global:0x7f0000`,
          `${TARGET_RIDS[0]}@${targetGlobals[1]}:global:0x800000`,
          `${TARGET_RIDS[1]}@${targetGlobals[0]}:global:0x7f0000`,
          `${TARGET_RIDS[1]}@${targetGlobals[1]}:global:0x800000`,
          `${TARGET_RIDS[1]}@9:local:0x800000`,
        ].sort(),
      );
      assert.deepEqual(targetHw.vms[before.vmId], { '5': targetGlobals[0], '9': targetGlobals[1] });
      assert.equal(targetHw.allocator.used, targetBefore.allocator.used + 2);

      // The source fd is gone, and nothing of it is left in the source hardware.
      expectError(await tenant.client.get(`/v1/fds/${fdId}`), 404, 'NOT_FOUND');
      const sourceHw = await liveHardware(op, sourceHost);
      assert.deepEqual(entriesOf(sourceHw, fdId), []);
      assert.equal(sourceHw.vms[before.vmId], undefined);
      assert.equal(sourceHw.allocator.used, 0);
      assert.deepEqual(
        (await openFdsOfVm(tenant.client, before.vmId)).map((fd) => fd.hostId),
        [targetHost],
        'the VM is live on exactly one host',
      );

      await assertVerified(op, sourceHost);
      await assertVerified(op, targetHost);

      // The migration record, and the events that carry it on both streams.
      const record = await tenant.client.get(`/v1/migrations/${migrated.body.migrationId}`);
      expectStatus(record, 200);
      assert.equal(record.body.migrationId, migrated.body.migrationId);
      assert.equal(record.body.fdId, fdId);
      assert.equal(record.body.sourceHostId, sourceHost);
      assert.equal(record.body.targetHostId, targetHost);
      assert.equal(record.body.state, 'completed');
      assert.equal(record.body.targetFdId, targetFdId);
      assert.equal(record.body.reason, undefined);
      assert.ok(Date.parse(record.body.startedAt) <= Date.parse(record.body.endedAt), record.text);
      const sourceEvents = await op.get(`/v1/events?hostId=${sourceHost}&fdId=${fdId}`);
      assert.deepEqual(sourceEvents.body.events.slice(-2).map((e: { type: string }) => e.type), ['MigrationStarted', 'FdMigratedOut']);
      const imported = await op.get(`/v1/events?hostId=${targetHost}&type=FdImported`);
      assert.equal(imported.body.events.length, 1);
      assert.equal(imported.body.events[0].data.migrationId, migrated.body.migrationId);
    });

    it('shows a migration to its tenant and the operator only', async () => {
      const op = app.operator;
      const sourceHost = await registerSource(op);
      const targetHost = await registerTarget(op);
      const fdId = await enqcmdVm(tenant.client, sourceHost);
      const migrated = await tenant.client.post(`/v1/fds/${fdId}/migrations`, { targetHostId: targetHost, deviceMap: DEVICE_MAP });
      expectStatus(migrated, 201);
      const path = `/v1/migrations/${migrated.body.migrationId}`;

      expectStatus(await op.get(path), 200);
      const other = await createTenant(op);
      expectError(await other.client.get(path), 404, 'NOT_FOUND');
      expectError(await tenant.client.get('/v1/migrations/00000000-0000-4000-8000-000000000000'), 404, 'NOT_FOUND');
      expectError(await tenant.client.get('/v1/migrations/not-a-uuid'), 400, 'VALIDATION_FAILED');
      expectError(await tenant.client.as(undefined).get(path), 401, 'UNAUTHENTICATED');
      // Another tenant cannot move someone else's fd either: to it the fd does not exist.
      const secondFd = await enqcmdVm(tenant.client, sourceHost);
      expectError(await other.client.post(`/v1/fds/${secondFd}/migrations`, { targetHostId: targetHost, deviceMap: DEVICE_MAP }), 404, 'NOT_FOUND');
    });

    it('answers a repeated Idempotency-Key with the first answer and moves nothing again', async () => {
      const op = app.operator;
      const sourceHost = await registerSource(op);
      const targetHost = await registerTarget(op);
      const fdId = await enqcmdVm(tenant.client, sourceHost);
      const body = { targetHostId: targetHost, deviceMap: DEVICE_MAP };
      const headers = { 'idempotency-key': 'move-vm-once' };

      const first = await tenant.client.post(`/v1/fds/${fdId}/migrations`, body, { headers });
      expectStatus(first, 201);
      const sourceAfter = await hostFingerprint(op, sourceHost);
      const targetAfter = await hostFingerprint(op, targetHost);

      const repeat = await tenant.client.post(`/v1/fds/${fdId}/migrations`, body, { headers });
      expectStatus(repeat, 201);
      assert.deepEqual(repeat.body, first.body);
      expectError(await tenant.client.post(`/v1/fds/${fdId}/migrations`, { ...body, deviceMap: {} }, { headers }), 422, 'IDEMPOTENCY_KEY_REUSED');
      assert.deepEqual(await hostFingerprint(op, sourceHost), sourceAfter);
      assert.deepEqual(await hostFingerprint(op, targetHost), targetAfter);
    });
  });
}
