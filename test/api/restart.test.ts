import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import {
  createTenant,
  expectStatus,
  pgliteBackend,
  postgresBackend,
  readUntil,
  registerHost,
  startTestApp,
  type TestApp,
  type TestBackend,
} from '../support/app';

/** State lives in the event store: a new process on the same database continues where the last one stopped. */
const backends: Array<[string, () => Promise<TestBackend>]> = [
  ['PostgreSQL', postgresBackend],
  ['embedded PGlite', pgliteBackend],
];

for (const [name, makeBackend] of backends) {
  describe(`REST across a restart on ${name}`, () => {
    let backend: TestBackend | undefined;
    let app: TestApp | undefined;

    after(async () => {
      await app?.close();
      await backend?.dispose();
    });

    it('reloads tenants, hosts, fds and allocations, and goes on from them', async () => {
      backend = await makeBackend();
      app = await startTestApp(backend.env);
      const tenant = await createTenant(app.operator);
      const hostId = await registerHost(app.operator, { devices: [{ rid: '0000:3b:00.1', kind: 'vf' }] });
      const created = await tenant.client.post('/v1/fds', { hostId, vmId: 'vm-1' });
      expectStatus(created, 201);
      const fdPath = `/v1/fds/${created.body.fdId}`;
      expectStatus(await tenant.client.put(`${fdPath}/hwid-mode`, { mode: 'global' }), 200);
      expectStatus(await tenant.client.put(`${fdPath}/global-min`, { globalMin: 100 }), 200);
      expectStatus(await tenant.client.post(`${fdPath}/ioasids`), 201);
      expectStatus(await tenant.client.post(`${fdPath}/ioasids/1/attachments`, { rid: '0000:3b:00.1' }), 201);
      const first = await tenant.client.put(`${fdPath}/ioasids/1/hwid`, { pasid: 1 }, { headers: { 'idempotency-key': 'hwid-1' } });
      expectStatus(first, 200);
      const before = await tenant.client.get(fdPath);
      await app.close();
      app = undefined;

      app = await startTestApp(backend.env);
      const client = app.operator.as(tenant.token);
      const after = await client.get(fdPath);
      expectStatus(after, 200);
      assert.deepEqual(after.body, before.body);

      const repeat = await client.put(`${fdPath}/ioasids/1/hwid`, { pasid: 1 }, { headers: { 'idempotency-key': 'hwid-1' } });
      assert.equal(repeat.status, 200);
      assert.deepEqual(repeat.body, first.body, 'idempotency records survive the restart');

      const next = await client.post(`${fdPath}/ioasids`);
      expectStatus(next, 201);
      assert.deepEqual(next.body, { ioasid: 2 });
      expectStatus(await client.post(`${fdPath}/ioasids/2/attachments`, { rid: '0000:3b:00.1' }), 201);
      const second = await client.put(`${fdPath}/ioasids/2/hwid`, { pasid: 2 });
      expectStatus(second, 200);
      assert.notEqual(second.body.globalPasid, first.body.globalPasid, 'the allocator remembers the PASID taken before the restart');

      const head = after.body.version + 3;
      const hardware = await readUntil(() => app!.operator.get(`/v1/hosts/${hostId}/hardware`), (r) => r.status === 200 && r.body.version === head);
      assert.equal(hardware.body.version, head);
      const verify = await app.operator.get(`/v1/hosts/${hostId}/verify`);
      assert.equal(verify.body.ok, true);
      assert.equal(verify.body.hash, hardware.body.hash);
    });
  });
}
