import { status } from '@grpc/grpc-js';
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { callError, errorCodeOf, IoasidClient } from '../grpc/grpc-client';
import { createFd, createTenant, expectError, expectStatus, registerHost, startTestApp, useTestApp, type ApiClient, type TestApp } from '../support/app';

const VF = '0000:3b:00.1';

/** ETag on GET /v1/fds/{fdId}, If-Match on its writes (gRPC `expected_version`): 412 when the fd changed since. */
describe('conditional writes', () => {
  const suite = useTestApp();
  let second: TestApp;
  let tenants: ApiClient[];
  let hostId: string;

  before(async () => {
    second = await startTestApp(suite.backend.env);
    const { token } = await createTenant(suite.app.operator);
    tenants = [suite.app.operator.as(token), second.operator.as(token)];
    hostId = await registerHost(suite.app.operator, { devices: [{ rid: VF, kind: 'vf' }] });
  });
  after(async () => {
    await second?.close();
  });

  const etagOf = async (client: ApiClient, fdId: string): Promise<string> => {
    const res = await client.get(`/v1/fds/${fdId}`);
    expectStatus(res, 200);
    const etag = res.headers.get('etag');
    assert.match(etag ?? '', /^"\d+"$/);
    return etag!;
  };

  it('answers the ETag of the fd, which only the fd\'s own changes move', async () => {
    const fdId = await createFd(tenants[0], hostId);
    const created = await etagOf(tenants[1], fdId);
    const other = await createFd(tenants[0], hostId);
    expectStatus(await tenants[0].put(`/v1/fds/${other}/hwid-mode`, { mode: 'local' }), 200);
    assert.equal(await etagOf(tenants[0], fdId), created, 'another fd of the host changed, not this one');

    const set = await tenants[0].put(`/v1/fds/${fdId}/hwid-mode`, { mode: 'global' }, { headers: { 'if-match': created } });
    expectStatus(set, 200);
    const changed = await etagOf(tenants[1], fdId);
    assert.equal(changed, `"${set.body.version}"`, 'the fd version is the host version of its last change');

    const stale = await tenants[1].put(`/v1/fds/${fdId}/global-min`, { globalMin: 64 }, { headers: { 'if-match': created } });
    expectError(stale, 412, 'PRECONDITION_FAILED');
    assert.equal(stale.body.error.details.version, Number(JSON.parse(changed)));
    for (const path of ['', '/ioasids', '/ioasids/1', '/ioasids/1/pgtable', '/kvm-pasid-mappings/3']) {
      const method = path === '/ioasids' ? 'POST' : 'DELETE';
      expectError(await tenants[0].request(method, `/v1/fds/${fdId}${path}`, { headers: { 'if-match': created } }), 412, 'PRECONDITION_FAILED');
    }
    expectStatus(await tenants[0].get(`/v1/fds/${fdId}`), 200);
    assert.equal(await etagOf(tenants[0], fdId), changed, 'the refused writes changed nothing');

    expectStatus(await tenants[0].put(`/v1/fds/${fdId}/global-min`, { globalMin: 64 }, { headers: { 'if-match': '*' } }), 200);
    expectStatus(await tenants[1].post(`/v1/fds/${fdId}/ioasids`), 201);
  });

  it('counts If-Match in the Idempotency-Key fingerprint, as gRPC counts expectedVersion', async () => {
    const fdId = await createFd(tenants[0], hostId);
    const etag = await etagOf(tenants[0], fdId);
    const headers = { 'idempotency-key': `mode-${fdId}` };
    const first = await tenants[0].put(`/v1/fds/${fdId}/hwid-mode`, { mode: 'global' }, { headers: { ...headers, 'if-match': etag } });
    expectStatus(first, 200);
    const again = await tenants[1].put(`/v1/fds/${fdId}/hwid-mode`, { mode: 'global' }, { headers: { ...headers, 'if-match': etag } });
    expectStatus(again, 200);
    assert.deepEqual(again.body, first.body, 'the same request again: the stored answer, not a 412');
    expectError(await tenants[0].put(`/v1/fds/${fdId}/hwid-mode`, { mode: 'global' }, { headers }), 422, 'IDEMPOTENCY_KEY_REUSED');
    expectError(await tenants[0].put(`/v1/fds/${fdId}/hwid-mode`, { mode: 'global' }, { headers: { ...headers, 'if-match': '"999"' } }), 422, 'IDEMPOTENCY_KEY_REUSED');
  });

  it('refuses an If-Match that is not an ETag with 400, and lets another tenant\'s fd be 404 first', async () => {
    const fdId = await createFd(tenants[0], hostId);
    for (const bad of ['12', 'W/"12"', '"x"', '"1", "2"']) {
      expectError(await tenants[0].post(`/v1/fds/${fdId}/ioasids`, undefined, { headers: { 'if-match': bad } }), 400, 'VALIDATION_FAILED');
    }
    const stranger = await createTenant(suite.app.operator);
    expectError(await stranger.client.delete(`/v1/fds/${fdId}`, { headers: { 'if-match': '"1"' } }), 404, 'NOT_FOUND');
  });

  it('lets exactly one of two writers holding the same ETag win, on two replicas', async () => {
    for (let round = 0; round < 12; round++) {
      const fdId = await createFd(tenants[round % 2], hostId);
      const etag = await etagOf(tenants[0], fdId);
      const [a, b] = await Promise.all([
        tenants[0].put(`/v1/fds/${fdId}/hwid-mode`, { mode: 'local' }, { headers: { 'if-match': etag } }),
        tenants[1].put(`/v1/fds/${fdId}/hwid-mode`, { mode: 'global' }, { headers: { 'if-match': etag } }),
      ]);
      const statuses = [a.status, b.status].sort();
      assert.deepEqual(statuses, [200, 412], `round ${round}: one wins, the other is refused (${a.text} / ${b.text})`);
      const view = await tenants[1].get(`/v1/fds/${fdId}`);
      assert.equal(view.body.hwidMode, a.status === 200 ? 'local' : 'global', `round ${round}: the winner's change is in the fd`);
      expectStatus(await tenants[0].delete(`/v1/fds/${fdId}`), 204);
    }
  });

  it('conditions a migration on the fd version (nothing moves when it is stale)', async () => {
    const target = await registerHost(suite.app.operator, { devices: [{ rid: VF, kind: 'vf' }] });
    const fdId = await createFd(tenants[0], hostId);
    const etag = await etagOf(tenants[0], fdId);
    expectStatus(await tenants[0].put(`/v1/fds/${fdId}/hwid-mode`, { mode: 'local' }), 200);
    expectError(await tenants[1].post(`/v1/fds/${fdId}/migrations`, { targetHostId: target, deviceMap: {} }, { headers: { 'if-match': etag } }), 412, 'PRECONDITION_FAILED');
    const still = await tenants[0].get(`/v1/fds/${fdId}`);
    expectStatus(still, 200);
    assert.equal(still.body.migratingTo, undefined);
    const migrated = await tenants[1].post(`/v1/fds/${fdId}/migrations`, { targetHostId: target, deviceMap: {} }, { headers: { 'if-match': await etagOf(tenants[1], fdId) } });
    expectStatus(migrated, 201);
    assert.equal(migrated.body.state, 'completed');
  });

  it('takes expected_version on gRPC writes and answers the etag metadata on GetFd', async () => {
    const client = new IoasidClient(second.started.grpcUrl!, (await createTenant(suite.app.operator)).token);
    try {
      const { fdId } = await client.call('CreateFd', { hostId, vmId: 'grpc-vm' });
      const read = await client.callWithMetadata('GetFd', { fdId });
      const [etag] = read.metadata.get('etag');
      assert.equal(etag, await etagOf(tenants[0].as(client.token), fdId));
      const version = Number(JSON.parse(String(etag)));
      const set = await client.call('SetHwidMode', { fdId, mode: 'global', expectedVersion: version });
      assert.equal(set.hwidMode, 'global');
      const error = await callError(client.call('SetGlobalMin', { fdId, globalMin: 64, expectedVersion: version }));
      assert.equal(error.code, status.FAILED_PRECONDITION);
      assert.equal(errorCodeOf(error).code, 'PRECONDITION_FAILED');
      const closeError = await callError(client.call('CloseFd', { fdId, expectedVersion: version }));
      assert.equal(errorCodeOf(closeError).code, 'PRECONDITION_FAILED');
      const invalid = await callError(client.call('CloseFd', { fdId, expectedVersion: -1 }));
      assert.equal(errorCodeOf(invalid).code, 'VALIDATION_FAILED');
      await client.call('SetGlobalMin', { fdId, globalMin: 64 });
      await client.call('CloseFd', { fdId, expectedVersion: Number(JSON.parse(String((await client.callWithMetadata('GetFd', { fdId })).metadata.get('etag')[0]))) });
    } finally {
      client.close();
    }
  });
});
