import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import fc from 'fast-check';
import { Client } from 'pg';
import { createFd, createTenant, expectStatus, postgresBackend, registerHost, startTestApp, TEST_OPERATOR_TOKEN, type TestApp, type TestBackend } from '../support/app';
import { contractBreach } from '../support/reliability-contract';
import { describeRequest, hostileRequest, writtenRows } from '../support/reliability-hostile';
import { rawHttp, type RawRequest } from '../support/reliability-raw-http';
import { missingFromCatalogue, ROUTES } from '../support/reliability-routes';
import { reliabilityScale } from '../support/reliability-workload';

const RUNS_PER_ROUTE = 60 * reliabilityScale();
const VF = '0000:3b:00.1';
const SIOV = '0000:5e:00.0';

/**
 * fast-check-generated requests at every REST route: wrong types, huge, negative and fractional
 * numbers, control characters, deep nesting, bodies over the limit, unknown and prototype keys,
 * invalid UTF-8, wrong content types, path parameters of every shape, garbage credentials.
 * Never a 5xx; every error keeps the documented shape and code; a refused request writes nothing.
 */
describe('hostile input at every REST route', () => {
  let backend: TestBackend;
  let app: TestApp;
  let db: Client;
  let port: number;
  const ids: Record<string, string[]> = {};
  let tenantToken: string;
  const tally = { requests: 0, rejected: 0, accepted: 0, tooLarge: 0, byStatus: {} as Record<number, number> };

  before(async () => {
    backend = await postgresBackend();
    app = await startTestApp(backend.env);
    port = Number(new URL(app.url).port);
    db = new Client({ connectionString: backend.env.DATABASE_URL });
    await db.connect();
    const tenant = await createTenant(app.operator);
    tenantToken = tenant.token;
    const hostId = await registerHost(app.operator, { hostId: 'hostile-h1', devices: [{ rid: VF, kind: 'vf' }, { rid: SIOV, kind: 'siov' }] });
    await registerHost(app.operator, { hostId: 'hostile-h2', devices: [{ rid: VF, kind: 'vf' }] });
    const fds = [await createFd(tenant.client, hostId), await createFd(tenant.client, hostId)];
    for (const fd of fds) {
      expectStatus(await tenant.client.put(`/v1/fds/${fd}/hwid-mode`, { mode: 'global' }), 200);
      expectStatus(await tenant.client.post(`/v1/fds/${fd}/ioasids`), 201);
    }
    expectStatus(await tenant.client.post(`/v1/fds/${fds[0]}/ioasids/1/attachments`, { rid: VF }), 201);
    Object.assign(ids, {
      hostId: [hostId, 'hostile-h2'],
      fdId: fds,
      ioasid: ['1', '2'],
      rid: [VF, SIOV],
      guestPasid: ['5', '1'],
      migrationId: ['6f1c2a8e-3d7b-4c6a-9e2f-1a2b3c4d5e6f'],
    });
  });
  after(async () => {
    await db?.end();
    await app?.close();
    await backend?.dispose();
    console.log(`hostile REST figures: ${JSON.stringify({ runsPerRoute: RUNS_PER_ROUTE, routes: ROUTES.length, ...tally })}`);
  });

  async function send(req: RawRequest): Promise<void> {
    const before = await writtenRows(db);
    const answer = await rawHttp(port, req);
    tally.requests++;
    tally.byStatus[answer.status] = (tally.byStatus[answer.status] ?? 0) + 1;
    const breach = contractBreach(answer.status, answer.headers['content-type'], answer.body);
    assert.equal(breach, undefined, `${describeRequest(req)}: ${breach}`);
    if (answer.status >= 400) {
      tally.rejected++;
      if (answer.status === 413) tally.tooLarge++;
      assert.deepEqual(await writtenRows(db), before, `${describeRequest(req)} was refused (${answer.status}) yet wrote`);
    } else tally.accepted++;
  }

  it('knows every route the server serves', async () => {
    const openapi = await app.operator.get('/docs-json');
    expectStatus(openapi, 200);
    assert.deepEqual(missingFromCatalogue(openapi.body), []);
  });

  for (const route of ROUTES) {
    it(`${route.method} ${route.template}: never a 5xx, never a partial write`, async () => {
      await fc.assert(
        fc.asyncProperty(hostileRequest(route, ids, { operator: TEST_OPERATOR_TOKEN, tenant: tenantToken }), (req) => send(req)),
        { numRuns: RUNS_PER_ROUTE },
      );
    });
  }

  it('refuses a 1 MB body with 413 before parsing it', async () => {
    const before = await writtenRows(db);
    const body = Buffer.from(JSON.stringify({ name: 'big', pad: 'x'.repeat(1 << 20) }));
    const answer = await rawHttp(port, { method: 'POST', target: '/v1/tenants', headers: [['Authorization', `Bearer ${TEST_OPERATOR_TOKEN}`], ['Content-Type', 'application/json']], body });
    assert.equal(answer.status, 413);
    assert.equal(JSON.parse(answer.body).error.code, 'VALIDATION_FAILED');
    assert.deepEqual(await writtenRows(db), before);
  });

  it('refuses headers over 16 KiB with 431 and the error body, before any route or write', async () => {
    const before = await writtenRows(db);
    const answer = await rawHttp(port, { method: 'POST', target: '/v1/tenants', headers: [['Authorization', `Bearer ${'t'.repeat(20_000)}`], ['Content-Type', 'application/json']], body: Buffer.from('{"name":"big"}') });
    assert.equal(answer.status, 431);
    assert.equal(contractBreach(answer.status, answer.headers['content-type'], answer.body), undefined);
    assert.deepEqual(JSON.parse(answer.body).error, { code: 'VALIDATION_FAILED', message: 'request headers too large', details: {} });
    assert.deepEqual(await writtenRows(db), before);
  });

  it('refuses names with control characters (NUL cannot be stored in PostgreSQL text) as 400', async () => {
    for (const name of ['a\u0000b', 'tab\there', 'line\nbreak', '\u0085next']) {
      const before = await writtenRows(db);
      const answer = await rawHttp(port, {
        method: 'POST',
        target: '/v1/tenants',
        headers: [['Authorization', `Bearer ${TEST_OPERATOR_TOKEN}`], ['Content-Type', 'application/json']],
        body: Buffer.from(JSON.stringify({ name })),
      });
      tally.requests++;
      assert.equal(answer.status, 400, `${JSON.stringify(name)}: ${answer.status} ${answer.body}`);
      assert.deepEqual(await writtenRows(db), before);
    }
  });

  it('answers bytes that are not HTTP at all with a 4xx and the error body, or a closed connection, and keeps serving', async () => {
    const garbage: RawRequest[] = [
      { method: 'GET', target: Buffer.from([0x2f, 0x76, 0x31, 0xff, 0x00]), headers: [] },
      { method: 'GET', target: '/v1/hosts', headers: [['Authorization', 'Bearer \u0001\u0002']] },
      { method: 'POST', target: '/v1/tenants', headers: [['Transfer-Encoding', 'chunked'], ['Authorization', `Bearer ${TEST_OPERATOR_TOKEN}`]], body: Buffer.from('zz\r\n{}\r\n0\r\n\r\n') },
      { method: 'BREW', target: '/v1/hosts', headers: [] },
      { method: 'GET', target: `/v1/hosts?${'a=1&'.repeat(5000)}`, headers: [['Authorization', `Bearer ${TEST_OPERATOR_TOKEN}`]] },
      { method: 'GET', target: '/v1/hosts', headers: [['X-Big', 'y'.repeat(20_000)]] },
    ];
    for (const req of garbage) {
      const answer = await rawHttp(port, req);
      assert.ok(answer.status === 0 || (answer.status >= 400 && answer.status < 500), `${req.method} ${String(req.target).slice(0, 80)}: ${answer.status}`);
      if (answer.status) assert.equal(contractBreach(answer.status, answer.headers['content-type'], answer.body), undefined, `${req.method} ${String(req.target).slice(0, 80)}`);
      tally.requests++;
    }
    expectStatus(await app.operator.get('/v1/hosts'), 200);
  });
});
