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

/** API.md "Auth and tenancy": 401 without a valid token, 403 for tenants on operator routes, 404 for another tenant's objects. */
describe('REST auth and tenant isolation', () => {
  let op: ApiClient;
  let a: TenantHandle;
  let b: TenantHandle;
  let hostId: string;
  let fdA: string;
  let fdB: string;

  const suite = useTestApp({ validateResponses: true });

  before(async () => {
    op = suite.app.operator;
    a = await createTenant(op);
    b = await createTenant(op);
    hostId = await registerHost(op, {
      enqcmd: true,
      devices: [
        { rid: '0000:3b:00.1', kind: 'vf' },
        { rid: '0000:3b:00.2', kind: 'vf' },
      ],
    });
    fdA = await createFd(a.client, hostId, 'vm-a');
    fdB = await createFd(b.client, hostId, 'vm-b');
    // Tenant A's fd in a state where every fd route would succeed for A.
    const path = `/v1/fds/${fdA}`;
    expectStatus(await a.client.put(`${path}/hwid-mode`, { mode: 'global' }), 200);
    expectStatus(await a.client.put(`${path}/global-min`, { globalMin: 1024 }), 200);
    expectStatus(await a.client.post(`${path}/ioasids`), 201);
    expectStatus(await a.client.post(`${path}/ioasids/1/attachments`, { rid: '0000:3b:00.1', enqcmd: true }), 201);
  });

  /** Every /v1 route of this service, with a body that would pass validation. */
  function routes(fdId: string): Array<[string, string, unknown?]> {
    const fd = `/v1/fds/${fdId}`;
    return [
      ['POST', '/v1/tenants', { name: 'someone' }],
      ['POST', '/v1/hosts', { hostId: 'h-x', pasidBits: 20, enqcmd: false, nestedPasidTable: false, devices: [] }],
      ['GET', '/v1/hosts'],
      ['GET', `/v1/hosts/${hostId}`],
      ['GET', `/v1/hosts/${hostId}/hardware`],
      ['GET', `/v1/hosts/${hostId}/verify`],
      ['POST', '/v1/fds', { hostId, vmId: 'vm-z' }],
      ['GET', '/v1/fds'],
      ...fdRoutes(fd),
      ['GET', '/v1/events'],
    ];
  }

  function fdRoutes(fd: string): Array<[string, string, unknown?]> {
    return [
      ['GET', fd],
      ['PUT', `${fd}/hwid-mode`, { mode: 'local' }],
      ['PUT', `${fd}/global-min`, { globalMin: 2048 }],
      ['POST', `${fd}/ioasids`],
      ['POST', `${fd}/ioasids/1/attachments`, { rid: '0000:3b:00.2', enqcmd: true }],
      ['PUT', `${fd}/ioasids/1/pasid-table`, { gpa: '0x1000' }],
      ['PUT', `${fd}/ioasids/1/hwid`, { pasid: 5 }],
      ['GET', `${fd}/ioasids/1/hwid`],
      ['PUT', `${fd}/ioasids/1/pgtable`, { gpa: '0x7f0000' }],
      ['DELETE', `${fd}/ioasids/1/pgtable`],
      ['PUT', `${fd}/kvm-pasid-mappings/5`, { hostPasid: 1024 }],
      ['DELETE', `${fd}/kvm-pasid-mappings/5`],
      ['DELETE', `${fd}/ioasids/1/attachments/0000:3b:00.1`],
      ['DELETE', `${fd}/ioasids/1`],
      ['DELETE', fd],
    ];
  }

  it('answers 401 UNAUTHENTICATED on every /v1 route without a token, with a wrong one or a malformed header', async () => {
    const callers: Array<[string, ApiClient, Record<string, string>]> = [
      ['no token', op.as(undefined), {}],
      ['a wrong token', op.as('not-a-token-of-this-service'), {}],
      ['a tenant token with a typo', op.as(`${a.token}x`), {}],
      ['a Basic credential', op.as(undefined), { authorization: `Basic ${Buffer.from('op:x').toString('base64')}` }],
      ['an empty bearer', op.as(undefined), { authorization: 'Bearer ' }],
    ];
    for (const [who, client, headers] of callers) {
      for (const [method, path, body] of routes(fdA)) {
        const res = await client.request(method, path, { body, headers });
        assert.equal(res.status, 401, `${who}: ${method} ${path} -> ${res.text}`);
        expectError(res, 401, 'UNAUTHENTICATED');
      }
    }
  });

  it('answers 403 FORBIDDEN to a tenant on the operator routes', async () => {
    for (const [method, path, body] of routes(fdA).slice(0, 6).filter(([m, p]) => !(m === 'GET' && (p === '/v1/hosts' || p === `/v1/hosts/${hostId}`)))) {
      const res = await a.client.request(method, path, { body });
      assert.equal(res.status, 403, `${method} ${path} -> ${res.text}`);
      expectError(res, 403, 'FORBIDDEN');
    }
  });

  it('answers 404 NOT_FOUND to another tenant on every fd route, exactly as for a missing fd', async () => {
    const missing = '11111111-2222-4333-8444-555555555555';
    for (const [fdId, label] of [
      [fdA, "tenant A's fd"],
      [missing, 'a missing fd'],
    ]) {
      for (const [method, path, body] of fdRoutes(`/v1/fds/${fdId}`)) {
        const res = await b.client.request(method, path, { body });
        assert.equal(res.status, 404, `${label}: ${method} ${path} -> ${res.text}`);
        expectError(res, 404, 'NOT_FOUND');
      }
    }
    // Nothing of A's fd changed.
    const fd = await a.client.get(`/v1/fds/${fdA}`);
    expectStatus(fd, 200);
    assert.equal(fd.body.hwidMode, 'global');
    assert.equal(fd.body.ioasids.length, 1);
    assert.deepEqual(fd.body.ioasids[0].attachments, [{ vdevId: 'vdev-1', rid: '0000:3b:00.1', enqcmd: true }]);
  });

  it('filters lists and events by tenant', async () => {
    const ids = async (client: ApiClient, query = ''): Promise<string[]> => {
      const res = await client.get(`/v1/fds${query}`);
      expectStatus(res, 200);
      return (res.body.fds as Array<{ fdId: string }>).map((f) => f.fdId).sort();
    };
    assert.deepEqual(await ids(a.client), [fdA]);
    assert.deepEqual(await ids(b.client), [fdB]);
    assert.deepEqual(await ids(op, `?hostId=${hostId}`), [fdA, fdB].sort());
    assert.deepEqual(await ids(b.client, `?hostId=${hostId}`), [fdB]);

    const bEvents = await b.client.get('/v1/events');
    expectStatus(bEvents, 200);
    assert.ok(bEvents.body.events.length > 0);
    for (const e of bEvents.body.events) assert.equal(e.tenantId, b.tenantId);
    const peek = await b.client.get(`/v1/events?fdId=${fdA}`);
    expectStatus(peek, 200);
    assert.deepEqual(peek.body.events, []);
    const own = await a.client.get(`/v1/events?fdId=${fdA}`);
    assert.deepEqual(
      own.body.events.map((e: { type: string }) => e.type),
      ['FdCreated', 'HwidModeSet', 'GlobalMinSet', 'IoasidAllocated', 'DeviceAttached'],
    );
  });

  it('lets tenants read hosts, without owners', async () => {
    const hosts = await b.client.get('/v1/hosts');
    expectStatus(hosts, 200);
    const host = await b.client.get(`/v1/hosts/${hostId}`);
    expectStatus(host, 200);
    assert.equal(host.body.hostId, hostId);
    assert.doesNotMatch(JSON.stringify(host.body), new RegExp(`${fdA}|${a.tenantId}`));
  });

  it('creates fds only for the caller, and for a named tenant when the operator asks', async () => {
    expectError(await b.client.post('/v1/fds', { hostId, vmId: 'vm-steal', tenantId: a.tenantId }), 403, 'FORBIDDEN');
    expectError(await op.post('/v1/fds', { hostId, vmId: 'vm-op' }), 400, 'VALIDATION_FAILED');
    const created = await op.post('/v1/fds', { hostId, vmId: 'vm-op', tenantId: b.tenantId });
    expectStatus(created, 201);
    assert.equal(created.body.tenantId, b.tenantId);
    expectStatus(await b.client.get(`/v1/fds/${created.body.fdId}`), 200);
    expectError(await a.client.get(`/v1/fds/${created.body.fdId}`), 404, 'NOT_FOUND');
  });

  it('keeps the probes public', async () => {
    for (const path of ['/healthz', '/metrics', '/docs-json']) {
      assert.equal((await op.as(undefined).get(path)).status, 200, path);
    }
  });
});
