import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { Client } from 'pg';
import { ADMIN_URL } from '../support/postgres';
import { createTenant, expectError, expectStatus, readUntil, registerHost, TEST_OPERATOR_TOKEN, useTestApp, type ApiClient } from '../support/app';

describe('operations endpoints', () => {
  const suite = useTestApp({ validateResponses: true });
  let op: ApiClient;
  let anonymous: ApiClient;

  before(() => {
    op = suite.app.operator;
    anonymous = op.as(undefined);
  });

  it('GET /healthz answers liveness', async () => {
    const res = await anonymous.get('/healthz');
    expectStatus(res, 200);
    assert.deepEqual(res.body, { status: 'ok' });
  });

  it('GET /readyz is ready once the database answers and the projection caught up', async () => {
    await registerHost(op, { devices: [{ rid: '0000:3b:00.1', kind: 'vf' }] });
    const res = await readUntil(() => anonymous.get('/readyz'), (r) => r.status === 200);
    expectStatus(res, 200);
    assert.equal(res.body.status, 'ready');
    assert.ok('database' in res.body && 'projectionLag' in res.body, res.text);
  });

  it('GET /metrics serves Prometheus text with the command histogram', async () => {
    const tenant = await createTenant(op);
    const hostId = await registerHost(op, { devices: [{ rid: '0000:3b:00.1', kind: 'vf' }] });
    expectStatus(await tenant.client.post('/v1/fds', { hostId, vmId: 'vm-metrics' }), 201);
    const res = await anonymous.get('/metrics');
    expectStatus(res, 200);
    assert.match(res.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/);
    assert.match(res.text, /^ioasid_command_duration_seconds_bucket\{.*command="CreateFd".*\} \d+/m);
    assert.match(res.text, /^process_cpu_seconds_total /m);
  });

  it('serves OpenAPI at /docs and /docs-json, with bearer auth declared', async () => {
    const json = await anonymous.get('/docs-json');
    expectStatus(json, 200);
    assert.match(json.body.openapi, /^3\./);
    const paths = Object.keys(json.body.paths);
    for (const path of ['/v1/tenants', '/v1/hosts/{hostId}/hardware', '/v1/fds/{fdId}/ioasids/{ioasid}/hwid', '/v1/fds/{fdId}/kvm-pasid-mappings/{guestPasid}', '/v1/events']) {
      assert.ok(paths.includes(path), `${path} documented`);
    }
    assert.equal(json.body.components.securitySchemes.bearer.scheme, 'bearer');
    assert.ok(json.body.components.schemas.RegisterHostDto.properties.devices, 'DTOs are described');
    const ui = await anonymous.get('/docs');
    expectStatus(ui, 200);
    assert.match(ui.text, /swagger/i);
  });

  it('echoes x-correlation-id and records it in the events it causes', async () => {
    const tenant = await createTenant(op);
    const hostId = await registerHost(op, { devices: [{ rid: '0000:3b:00.1', kind: 'vf' }] });
    const res = await tenant.client.post('/v1/fds', { hostId, vmId: 'vm-corr' }, { headers: { 'x-correlation-id': 'trace-42' } });
    expectStatus(res, 201);
    assert.equal(res.headers.get('x-correlation-id'), 'trace-42');
    const events = await tenant.client.get(`/v1/events?fdId=${res.body.fdId}`);
    assert.equal(events.body.events[0].correlationId, 'trace-42');
    const generated = await tenant.client.get('/v1/hosts');
    assert.match(generated.headers.get('x-correlation-id') ?? '', /^[0-9a-f-]{36}$/);
  });

  it('never puts a token in the answer of anything but tenant creation', async () => {
    const res = await op.get('/v1/events?pageSize=1000');
    assert.doesNotMatch(res.text, /test-operator-token/);
  });
});

describe('ROLE=projector', () => {
  const suite = useTestApp({ env: { ROLE: 'projector' } });

  it('serves the probes and metrics only', async () => {
    const { app } = suite;
    expectStatus(await app.operator.get('/healthz'), 200);
    expectStatus(await app.operator.get('/metrics'), 200);
    const readyz = await app.operator.get('/readyz');
    assert.ok(readyz.status === 200 || readyz.status === 503, readyz.text);
    expectError(await app.operator.get('/v1/hosts'), 404, 'NOT_FOUND');
    expectError(await app.operator.post('/v1/tenants', { name: 'x' }), 404, 'NOT_FOUND');
    expectError(await app.operator.get('/docs-json'), 404, 'NOT_FOUND');
  });
});

describe('a lost database', () => {
  const suite = useTestApp({ env: { LOG_LEVEL: 'fatal' } });

  it('answers 503 UNAVAILABLE to writes and readiness, never 500', async () => {
    const { app, backend } = suite;
    await registerHost(app.operator, { hostId: 'host-lost', devices: [{ rid: '0000:3b:00.1', kind: 'vf' }] });
    const admin = new Client({ connectionString: ADMIN_URL });
    await admin.connect();
    try {
      const name = new URL(backend.env.DATABASE_URL).pathname.slice(1);
      await admin.query(`DROP DATABASE ${name} WITH (FORCE)`);
    } finally {
      await admin.end();
    }
    const write = await app.operator.post('/v1/fds', { hostId: 'host-lost', vmId: 'vm-1', tenantId: 'nobody' });
    expectError(write, 503, 'UNAVAILABLE');
    const tenantCall = await app.operator.as('some-tenant-token').get('/v1/fds');
    expectError(tenantCall, 503, 'UNAVAILABLE');
    const ready = await app.operator.get('/readyz');
    assert.equal(ready.status, 503, ready.text);
    expectStatus(await app.operator.get('/healthz'), 200);
  });
});

describe('logs', () => {
  const lines: string[] = [];
  const suite = useTestApp({ env: { LOG_LEVEL: 'debug' }, logOut: { write: (line: string) => lines.push(line) } });

  it('never contain a token, and record each request with its outcome', async () => {
    const { app } = suite;
    const tenant = await createTenant(app.operator);
    const hostId = await registerHost(app.operator, { devices: [{ rid: '0000:3b:00.1', kind: 'vf' }] });
    expectStatus(await tenant.client.post('/v1/fds', { hostId, vmId: 'vm-logs' }, { headers: { 'x-correlation-id': 'logs-1' } }), 201);
    expectError(await app.operator.as(`${tenant.token}-wrong`).get('/v1/fds'), 401, 'UNAUTHENTICATED');
    const log = lines.join('');
    assert.ok(!log.includes(TEST_OPERATOR_TOKEN), 'the operator token is never logged');
    assert.ok(!log.includes(tenant.token), 'tenant tokens are never logged');
    const access = lines.map((l) => JSON.parse(l)).filter((l) => l.msg === 'request' && l.correlationId === 'logs-1');
    assert.equal(access.length, 1);
    assert.equal(access[0].status, 201);
    assert.equal(access[0].tenant, tenant.tenantId);
  });
});
