import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import {
  createFd,
  createTenant,
  expectError,
  expectStatus,
  registerHost,
  useTestApp,
  type ApiClient,
  type TenantHandle,
} from '../support/app';

/** API.md "Idempotency": a repeat returns the first answer and appends nothing; another body under the same key is refused. */
describe('REST Idempotency-Key', () => {
  let op: ApiClient;
  let acme: TenantHandle;
  let hostId: string;

  const suite = useTestApp({ validateResponses: true });

  before(async () => {
    op = suite.app.operator;
    acme = await createTenant(op);
    hostId = await registerHost(op, { devices: [{ rid: '0000:3b:00.1', kind: 'vf' }] });
  });

  async function hostEventCount(): Promise<number> {
    const res = await op.get(`/v1/events?hostId=${hostId}&pageSize=1000`);
    expectStatus(res, 200);
    return res.body.events.length;
  }

  it('answers a repeated create with the first answer and appends no event', async () => {
    const headers = { 'idempotency-key': 'create-vm-1' };
    const first = await acme.client.post('/v1/fds', { hostId, vmId: 'vm-1' }, { headers });
    expectStatus(first, 201);
    const events = await hostEventCount();
    const again = await acme.client.post('/v1/fds', { hostId, vmId: 'vm-1' }, { headers });
    assert.equal(again.status, 201);
    assert.deepEqual(again.body, first.body);
    assert.equal(await hostEventCount(), events);
  });

  it('refuses the same key with another body: 422 IDEMPOTENCY_KEY_REUSED', async () => {
    const headers = { 'idempotency-key': 'create-vm-2' };
    expectStatus(await acme.client.post('/v1/fds', { hostId, vmId: 'vm-2' }, { headers }), 201);
    const events = await hostEventCount();
    expectError(await acme.client.post('/v1/fds', { hostId, vmId: 'vm-3' }, { headers }), 422, 'IDEMPOTENCY_KEY_REUSED');
    assert.equal(await hostEventCount(), events);
  });

  it('refuses the same key on another operation', async () => {
    const fdPath = `/v1/fds/${await createFd(acme.client, hostId)}`;
    const headers = { 'idempotency-key': 'mode-or-min' };
    expectStatus(await acme.client.put(`${fdPath}/hwid-mode`, { mode: 'global' }, { headers }), 200);
    expectError(await acme.client.put(`${fdPath}/global-min`, { mode: 'global' }, { headers }), 400, 'VALIDATION_FAILED');
    expectError(await acme.client.put(`${fdPath}/global-min`, { globalMin: 1024 }, { headers }), 422, 'IDEMPOTENCY_KEY_REUSED');
  });

  it('repeats PUT and DELETE answers, 204 included, without new events', async () => {
    const fdPath = `/v1/fds/${await createFd(acme.client, hostId)}`;
    expectStatus(await acme.client.put(`${fdPath}/hwid-mode`, { mode: 'global' }), 200);
    expectStatus(await acme.client.put(`${fdPath}/global-min`, { globalMin: 512 }), 200);
    const alloc = { 'idempotency-key': 'alloc-1' };
    const first = await acme.client.post(`${fdPath}/ioasids`, undefined, { headers: alloc });
    expectStatus(first, 201);
    const events = await hostEventCount();
    const again = await acme.client.post(`${fdPath}/ioasids`, undefined, { headers: alloc });
    assert.equal(again.status, 201);
    assert.deepEqual(again.body, first.body);
    assert.equal(await hostEventCount(), events);

    const free = { 'idempotency-key': 'free-1' };
    const freed = await acme.client.delete(`${fdPath}/ioasids/${first.body.ioasid}`, { headers: free });
    assert.equal(freed.status, 204);
    assert.equal(freed.text, '');
    const eventsAfterFree = await hostEventCount();
    const freedAgain = await acme.client.delete(`${fdPath}/ioasids/${first.body.ioasid}`, { headers: free });
    assert.equal(freedAgain.status, 204, 'the first answer, although the ioasid is gone now');
    assert.equal(await hostEventCount(), eventsAfterFree);
    expectError(await acme.client.delete(`${fdPath}/ioasids/${first.body.ioasid}`), 404, 'NOT_FOUND');
  });

  it('scopes keys per tenant', async () => {
    const other = await createTenant(op);
    const headers = { 'idempotency-key': 'create-vm-1' };
    const res = await other.client.post('/v1/fds', { hostId, vmId: 'vm-other' }, { headers });
    expectStatus(res, 201);
    assert.equal(res.body.tenantId, other.tenantId);
  });
});
