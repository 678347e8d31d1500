import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  createTenant,
  documentCheck,
  expectError,
  expectStatus,
  postgresBackend,
  registerHost,
  startTestApp,
  unique,
  type ApiClient,
  type TenantHandle,
  type TestApp,
  type TestBackend,
} from '../support/app';
import { DEVICE_MAP, SOURCE_RIDS, TARGET_RIDS, enqcmdVm, hostFingerprint, registerSource, registerTarget } from './migration-fixtures';

/**
 * All or nothing: a migration refused for any reason answers the code that stopped it and
 * changes nothing anywhere: no event on either host, the same hardware, the source fd not frozen.
 */
describe('refused migrations change nothing', () => {
  let backend: TestBackend;
  let app: TestApp;
  let op: ApiClient;
  let tenant: TenantHandle;

  before(async () => {
    backend = await postgresBackend();
    app = await startTestApp(backend.env);
    // Every refusal is also checked against the OpenAPI document (migrateFd's codes).
    op = app.operator.checkedBy(await documentCheck(app.url));
    tenant = await createTenant(op);
  });
  after(async () => {
    await app?.close();
    await backend?.dispose();
  });

  /** Posts the migration and checks the refusal, that both hosts are as they were and that the fd still takes changes. */
  async function expectRefused(fdId: string, sourceHost: string, body: unknown, status: number, code: string): Promise<void> {
    const targetHost = (body as { targetHostId: string }).targetHostId;
    const fdBefore = await tenant.client.get(`/v1/fds/${fdId}`);
    const sourceBefore = await hostFingerprint(op, sourceHost);
    const targetBefore = await hostFingerprint(op, targetHost);

    expectError(await tenant.client.post(`/v1/fds/${fdId}/migrations`, body), status, code);

    assert.deepEqual(await hostFingerprint(op, sourceHost), sourceBefore, 'the source stream and hardware are unchanged');
    assert.deepEqual(await hostFingerprint(op, targetHost), targetBefore, 'the target stream and hardware are unchanged');
    const fdAfter = await tenant.client.get(`/v1/fds/${fdId}`);
    assert.deepEqual(fdAfter.body, fdBefore.body);
    assert.equal(fdAfter.body.migratingTo, undefined, 'the source fd is not frozen');
    const started = await op.get(`/v1/events?hostId=${sourceHost}&type=MigrationStarted`);
    assert.deepEqual(started.body.events, [], 'no migration was even started');
    // Not frozen: the fd still takes changes.
    expectStatus(await tenant.client.post(`/v1/fds/${fdId}/ioasids`), 201);
  }

  it('refuses a target without ENQCMD: CAPABILITY_MISSING', async () => {
    const sourceHost = await registerSource(op);
    const targetHost = await registerTarget(op, { enqcmd: false });
    const fdId = await enqcmdVm(tenant.client, sourceHost);
    await expectRefused(fdId, sourceHost, { targetHostId: targetHost, deviceMap: DEVICE_MAP }, 409, 'CAPABILITY_MISSING');
  });

  it('refuses a target device that another VM owns: DEVICE_BUSY', async () => {
    const sourceHost = await registerSource(op);
    const targetHost = await registerTarget(op);
    const squatter = await tenant.client.post('/v1/fds', { hostId: targetHost, vmId: unique('squatter') });
    expectStatus(squatter, 201);
    expectStatus(await tenant.client.put(`/v1/fds/${squatter.body.fdId}/hwid-mode`, { mode: 'local' }), 200);
    expectStatus(await tenant.client.post(`/v1/fds/${squatter.body.fdId}/ioasids`), 201);
    expectStatus(await tenant.client.post(`/v1/fds/${squatter.body.fdId}/ioasids/1/attachments`, { rid: TARGET_RIDS[1] }), 201);
    const fdId = await enqcmdVm(tenant.client, sourceHost);
    await expectRefused(fdId, sourceHost, { targetHostId: targetHost, deviceMap: DEVICE_MAP }, 409, 'DEVICE_BUSY');
  });

  it('refuses a map naming a device the target does not have: DEVICE_MAP_INVALID', async () => {
    const sourceHost = await registerSource(op);
    const targetHost = await registerTarget(op);
    const fdId = await enqcmdVm(tenant.client, sourceHost);
    const deviceMap = { ...DEVICE_MAP, [SOURCE_RIDS[1]]: '0000:99:00.7' };
    await expectRefused(fdId, sourceHost, { targetHostId: targetHost, deviceMap }, 422, 'DEVICE_MAP_INVALID');
  });

  it('refuses a map naming a device the source does not have: DEVICE_MAP_INVALID', async () => {
    const sourceHost = await registerSource(op);
    const targetHost = await registerTarget(op);
    const fdId = await enqcmdVm(tenant.client, sourceHost);
    const deviceMap = { ...DEVICE_MAP, '0000:99:00.7': '0000:5e:00.3' };
    await expectRefused(fdId, sourceHost, { targetHostId: targetHost, deviceMap }, 422, 'DEVICE_MAP_INVALID');
  });

  it('refuses a map that does not cover every attached device: DEVICE_MAP_INVALID', async () => {
    const sourceHost = await registerSource(op);
    const targetHost = await registerTarget(op);
    const fdId = await enqcmdVm(tenant.client, sourceHost);
    await expectRefused(fdId, sourceHost, { targetHostId: targetHost, deviceMap: { [SOURCE_RIDS[0]]: TARGET_RIDS[0] } }, 422, 'DEVICE_MAP_INVALID');
  });

  it('refuses an fd whose real siov PASID was exposed in local mode: NOT_MIGRATABLE, with the reason', async () => {
    const sourceHost = await registerSource(op);
    const targetHost = await registerHost(op, {
      hostId: unique('target'),
      devices: [{ rid: '0000:5e:00.5', kind: 'siov' }],
    });
    const created = await tenant.client.post('/v1/fds', { hostId: sourceHost, vmId: unique('vm') });
    expectStatus(created, 201);
    const fd = `/v1/fds/${created.body.fdId}`;
    expectStatus(await tenant.client.put(`${fd}/hwid-mode`, { mode: 'local' }), 200);
    expectStatus(await tenant.client.post(`${fd}/ioasids`), 201);
    expectStatus(await tenant.client.post(`${fd}/ioasids/1/attachments`, { rid: '0000:3b:00.5' }), 201);
    expectStatus(await tenant.client.put(`${fd}/ioasids/1/hwid`, { pasid: 7 }), 200);
    expectStatus(await tenant.client.get(`${fd}/ioasids/1/hwid`), 200);
    const view = await tenant.client.get(fd);
    assert.equal(view.body.migratable, false);

    const body = { targetHostId: targetHost, deviceMap: { '0000:3b:00.5': '0000:5e:00.5' } };
    const refused = await tenant.client.post(`${fd}/migrations`, body);
    expectError(refused, 409, 'NOT_MIGRATABLE');
    assert.equal(refused.body.error.details.reason, view.body.migratableReason);
    await expectRefused(created.body.fdId, sourceHost, body, 409, 'NOT_MIGRATABLE');
  });

  it('refuses an unknown target host: NOT_FOUND', async () => {
    const sourceHost = await registerSource(op);
    const fdId = await enqcmdVm(tenant.client, sourceHost);
    const sourceBefore = await hostFingerprint(op, sourceHost);
    expectError(await tenant.client.post(`/v1/fds/${fdId}/migrations`, { targetHostId: 'no-such-host', deviceMap: DEVICE_MAP }), 404, 'NOT_FOUND');
    assert.deepEqual(await hostFingerprint(op, sourceHost), sourceBefore);
  });

  it('refuses malformed requests before anything: VALIDATION_FAILED', async () => {
    const sourceHost = await registerSource(op);
    const targetHost = await registerTarget(op);
    const fdId = await enqcmdVm(tenant.client, sourceHost);
    const path = `/v1/fds/${fdId}/migrations`;
    const bad: unknown[] = [
      {},
      { targetHostId: targetHost },
      { targetHostId: targetHost, deviceMap: [] },
      { targetHostId: targetHost, deviceMap: { 'not-a-rid': TARGET_RIDS[0] } },
      { targetHostId: targetHost, deviceMap: { [SOURCE_RIDS[0]]: 42 } },
      { targetHostId: 'has space', deviceMap: DEVICE_MAP },
      { targetHostId: 'x'.repeat(129), deviceMap: DEVICE_MAP },
      { targetHostId: targetHost, deviceMap: DEVICE_MAP, extra: true },
      { targetHostId: targetHost, deviceMap: Object.fromEntries(Array.from({ length: 1025 }, (_, i) => [rid(0, i), rid(1, i)])) },
    ];
    const sourceBefore = await hostFingerprint(op, sourceHost);
    for (const body of bad) {
      const res = await tenant.client.post(path, body);
      expectError(res, 400, 'VALIDATION_FAILED');
      assert.ok(res.body.error.details.fields.length > 0, res.text);
    }
    // Well-formed but not one-to-one: the target's decider refuses it, naming both entries.
    const shared = await tenant.client.post(path, { targetHostId: targetHost, deviceMap: { ...DEVICE_MAP, [SOURCE_RIDS[0]]: TARGET_RIDS[1] } });
    expectError(shared, 422, 'DEVICE_MAP_INVALID');
    assert.deepEqual(shared.body.error.details.entries, [
      { source: SOURCE_RIDS[0], target: TARGET_RIDS[1], problem: 'TARGET_SHARED' },
      { source: SOURCE_RIDS[1], target: TARGET_RIDS[1], problem: 'TARGET_SHARED' },
    ]);
    expectError(await tenant.client.post('/v1/fds/not-a-uuid/migrations', { targetHostId: targetHost, deviceMap: DEVICE_MAP }), 400, 'VALIDATION_FAILED');
    expectError(await tenant.client.request('POST', path, { rawBody: '{"targetHostId":', headers: { 'content-type': 'application/json' } }), 400, 'VALIDATION_FAILED');
    assert.deepEqual(await hostFingerprint(op, sourceHost), sourceBefore);
  });
});

/** The i-th distinct RID of PCI domain `domain`. */
function rid(domain: number, i: number): string {
  const hex = (n: number, width: number) => n.toString(16).padStart(width, '0');
  return `${hex(domain, 4)}:${hex(i >> 8, 2)}:${hex((i >> 3) & 0x1f, 2)}.${i & 7}`;
}
