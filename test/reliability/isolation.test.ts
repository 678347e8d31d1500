import assert from 'node:assert/strict';
import { createHash, randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { Client } from 'pg';
import { ApiClient, expectStatus, readUntil, type ApiResponse } from '../support/app';
import { IoasidClient, callError } from '../grpc/grpc-client';
import { createTestDatabase, type TestDatabase } from '../support/postgres';
import { readEventLog } from '../support/reliability-checks';
import { RestartableServer } from '../support/reliability-server';
import { pathOf, paramsOf, ROUTES, type RouteSpec } from '../support/reliability-routes';

const OPERATOR_TOKEN = `op-isolation-${randomUUID()}`;
const VFS = ['0000:3b:00.1', '0000:3b:00.2'];
const SIOV = '0000:5e:00.0';
const TARGET_VF = '0000:7a:00.1';

interface TenantFixture {
  tenantId: string;
  name: string;
  token: string;
  client: ApiClient;
  vmIds: string[];
  fdIds: string[];
}

/**
 * Tenant B at every route, on tenant A's objects: 404 exactly as for a missing object, no trace of
 * A in any answer, list or audit page; A's state untouched. Then the secrets: tokens are stored
 * only hashed and never reach the server's output, whatever the log level.
 */
describe('tenant isolation and secrets', () => {
  let db: TestDatabase;
  let server: RestartableServer;
  let operator: ApiClient;
  let a: TenantFixture;
  let b: TenantFixture;
  let migrationId: string;
  const hostId = 'iso-host-1';
  const targetHostId = 'iso-host-2';
  let aFdBefore: ApiResponse;
  let aGlobalPasid: number;
  const tally = { routes: 0, requests: 0 };

  async function tenant(name: string): Promise<TenantFixture> {
    const res = await operator.post('/v1/tenants', { name });
    expectStatus(res, 201);
    return { tenantId: res.body.tenantId, name, token: res.body.token, client: operator.as(res.body.token), vmIds: [], fdIds: [] };
  }

  async function openFd(t: TenantFixture, vmId: string): Promise<string> {
    const res = await t.client.post('/v1/fds', { hostId, vmId });
    expectStatus(res, 201);
    t.vmIds.push(vmId);
    t.fdIds.push(res.body.fdId);
    return res.body.fdId;
  }

  before(async () => {
    db = await createTestDatabase('ioasid_rel_iso');
    // The most verbose level: whatever is logged anywhere is in the output searched for tokens.
    server = await RestartableServer.create({ DATABASE_URL: db.url, OPERATOR_TOKEN, LOG_LEVEL: 'verbose' });
    await server.start();
    operator = new ApiClient(server.url, OPERATOR_TOKEN);
    const host = (id: string, devices: Array<{ rid: string; kind: string; pasidBits: number }>) => ({ hostId: id, pasidBits: 20, enqcmd: true, nestedPasidTable: true, devices });
    expectStatus(await operator.post('/v1/hosts', host(hostId, [...VFS.map((rid) => ({ rid, kind: 'vf', pasidBits: 20 })), { rid: SIOV, kind: 'siov', pasidBits: 20 }])), 201);
    expectStatus(await operator.post('/v1/hosts', host(targetHostId, [{ rid: TARGET_VF, kind: 'vf', pasidBits: 20 }])), 201);
    a = await tenant(`iso-a-${randomUUID().slice(0, 8)}`);
    b = await tenant(`iso-b-${randomUUID().slice(0, 8)}`);

    // A: one rich fd (global mode, vf and siov attached, hwid, page table, KVM mapping) and one migrated away.
    const fd = `/v1/fds/${await openFd(a, 'a-vm-secret-1')}`;
    expectStatus(await a.client.put(`${fd}/hwid-mode`, { mode: 'global' }), 200);
    expectStatus(await a.client.put(`${fd}/global-min`, { globalMin: 1024 }), 200);
    expectStatus(await a.client.post(`${fd}/ioasids`), 201);
    expectStatus(await a.client.post(`${fd}/ioasids/1/attachments`, { rid: VFS[0], enqcmd: true }), 201);
    expectStatus(await a.client.post(`${fd}/ioasids/1/attachments`, { rid: SIOV, enqcmd: true }), 201);
    const hwid = await a.client.put(`${fd}/ioasids/1/hwid`, { pasid: 5 });
    expectStatus(hwid, 200);
    aGlobalPasid = hwid.body.globalPasid;
    expectStatus(await a.client.put(`${fd}/ioasids/1/pgtable`, { gpa: '0x7f0000' }), 200);
    expectStatus(await a.client.put(`${fd}/kvm-pasid-mappings/5`, { hostPasid: hwid.body.globalPasid }), 200);
    const moving = `/v1/fds/${await openFd(a, 'a-vm-secret-2')}`;
    expectStatus(await a.client.put(`${moving}/hwid-mode`, { mode: 'global' }), 200);
    expectStatus(await a.client.post(`${moving}/ioasids`), 201);
    expectStatus(await a.client.post(`${moving}/ioasids/1/attachments`, { rid: VFS[1] }), 201);
    const migration = await a.client.post(`${moving}/migrations`, { targetHostId, deviceMap: { [VFS[1]]: TARGET_VF } });
    expectStatus(migration, 201);
    migrationId = migration.body.migrationId;
    a.fdIds.push(migration.body.targetFdId);

    // B has an fd of its own on the same host, so its lists and audit pages are not empty.
    await openFd(b, 'b-vm-1');
    aFdBefore = await a.client.get(fd);
  });
  after(async () => {
    await server?.stop();
    await db?.drop();
    console.log(`isolation figures: ${JSON.stringify(tally)}`);
  });

  /** Nothing that only A knows: its id, name, token, VM ids, fd ids (but `allowed`, which the caller sent), migration. */
  function assertNoTraceOfA(res: ApiResponse, what: string, allowed: string[] = []): void {
    const secrets = [a.tenantId, a.name, a.token, ...a.vmIds, ...a.fdIds, migrationId].filter((s) => !allowed.includes(s));
    for (const secret of secrets) assert.ok(!res.text.includes(secret), `${what} shows ${secret}: ${res.text.slice(0, 300)}`);
  }

  const aIds = () => ({ hostId, fdId: a.fdIds[0], ioasid: '1', rid: VFS[0], guestPasid: '5', migrationId });
  const bodyFor = (route: RouteSpec) =>
    route.template.endsWith('/attachments') ? { rid: VFS[0], enqcmd: true } : route.template.endsWith('/migrations') ? { targetHostId, deviceMap: { [VFS[0]]: TARGET_VF } } : route.body;

  for (const route of ROUTES.filter((r) => paramsOf(r).some((p) => p === 'fdId' || p === 'migrationId'))) {
    it(`${route.method} ${route.template}: B on A's object is 404, exactly as a missing one`, async () => {
      const ids = aIds();
      const missing = { ...ids, fdId: randomUUID(), migrationId: randomUUID() };
      const onA = await b.client.request(route.method, pathOf(route, ids), { body: bodyFor(route), headers: { 'idempotency-key': randomUUID() } });
      const onMissing = await b.client.request(route.method, pathOf(route, missing), { body: bodyFor(route), headers: { 'idempotency-key': randomUUID() } });
      tally.routes++;
      tally.requests += 2;
      assert.equal(onA.status, 404, `${onA.status} ${onA.text}`);
      assert.equal(onA.body.error.code, 'NOT_FOUND');
      const anonymized = (text: string, id: string) => text.split(id).join('<id>');
      const sentId = route.template.includes(':migrationId') ? ids.migrationId : ids.fdId;
      const missingId = route.template.includes(':migrationId') ? missing.migrationId : missing.fdId;
      assert.equal(anonymized(onA.text, sentId), anonymized(onMissing.text, missingId), 'the same answer as for an object that does not exist');
      assertNoTraceOfA(onA, route.template, [sentId]);
    });
  }

  it("operator-only routes are 403 for B, with nothing of A's", async () => {
    for (const route of ROUTES.filter((r) => r.operatorOnly)) {
      const res = await b.client.request(route.method, pathOf(route, aIds()), { body: route.body });
      tally.requests++;
      assert.equal(res.status, 403, `${route.method} ${route.template}: ${res.status}`);
      assertNoTraceOfA(res, route.template);
    }
  });

  it("lists, hosts and the audit log show B nothing of A's, whatever the filter", async () => {
    const reads = [
      '/v1/fds',
      `/v1/fds?hostId=${hostId}`,
      `/v1/fds?hostId=${targetHostId}`,
      '/v1/hosts',
      `/v1/hosts/${hostId}`,
      `/v1/hosts/${targetHostId}`,
      '/v1/events',
      `/v1/events?hostId=${hostId}`,
      `/v1/events?hostId=${targetHostId}`,
      `/v1/events?fdId=${a.fdIds[0]}`,
      `/v1/events?hostId=${hostId}&fdId=${a.fdIds[0]}`,
      '/v1/events?type=HwidSet',
      '/v1/events?type=FdCreated&afterVersion=0&pageSize=1000',
      '/v1/events?type=MigrationStarted',
    ];
    for (const path of reads) {
      const res = await b.client.get(path);
      tally.requests++;
      expectStatus(res, 200);
      assertNoTraceOfA(res, path);
    }
    const bEvents = await readEventLog(server.url, b.token);
    assert.ok(bEvents.length > 0, 'B sees its own events');
    assert.deepEqual(new Set(bEvents.map((e) => e.tenantId)), new Set([b.tenantId]));
    const aEvents = await readEventLog(server.url, a.token);
    assert.ok(aEvents.every((e) => e.tenantId === a.tenantId) && aEvents.length > 0);
  });

  it('gRPC: B on A\'s fd is NOT_FOUND and its lists hold nothing of A\'s', async () => {
    const grpcB = new IoasidClient(`127.0.0.1:${server.grpcPort}`, b.token);
    try {
      for (const [method, request] of [
        ['GetFd', { fdId: a.fdIds[0] }],
        ['CloseFd', { fdId: a.fdIds[0] }],
        ['SetHwid', { fdId: a.fdIds[0], ioasid: 1, pasid: 6 }],
        ['GetHwid', { fdId: a.fdIds[0], ioasid: 1 }],
        ['GetMigration', { migrationId }],
      ] as const) {
        const error = await callError(grpcB.call(method, request));
        tally.requests++;
        assert.equal(error.code, 5, `${method}: ${error.message}`);
        for (const secret of [a.tenantId, a.name, ...a.vmIds]) assert.ok(!error.message.includes(secret), `${method} error names ${secret}`);
      }
      for (const [method, request] of [['ListFds', {}], ['ListEvents', { fdId: a.fdIds[0] }], ['ListEvents', {}]] as const) {
        const text = JSON.stringify(await grpcB.call(method, request));
        tally.requests++;
        for (const secret of [a.tenantId, a.name, ...a.vmIds, ...a.fdIds]) assert.ok(!text.includes(secret), `${method} shows ${secret}`);
      }
    } finally {
      grpcB.close();
    }
  });

  it("left A's objects exactly as they were", async () => {
    const after = await a.client.get(`/v1/fds/${a.fdIds[0]}`);
    assert.deepEqual(after.body, aFdBefore.body);
    const verify = await operator.get(`/v1/hosts/${hostId}/verify`);
    assert.equal(verify.body.ok, true);
  });

  it("scopes VM ids per tenant: B opens an fd for A's vmId on A's host, and neither sees the other's VM", async () => {
    const shared = a.vmIds[0]!;
    const aFd = `/v1/fds/${a.fdIds[0]}`;
    const withoutVersion = ({ version: _version, ...rest }: Record<string, unknown>) => rest;
    // The hardware view is a projection: read it once it has caught up with the host.
    const projectedHardware = async () => {
      const version = (await operator.get(`/v1/hosts/${hostId}`)).body.version;
      const res = await readUntil(() => operator.get(`/v1/hosts/${hostId}/hardware`), (r) => r.status === 200 && r.body.version === version);
      expectStatus(res, 200);
      return res;
    };
    const aBefore = await a.client.get(aFd);

    const created = await b.client.post('/v1/fds', { hostId, vmId: shared });
    expectStatus(created, 201);
    tally.requests++;
    const bFdId: string = created.body.fdId;
    assert.notEqual(bFdId, a.fdIds[0]);
    assert.deepEqual([created.body.tenantId, created.body.vmId, created.body.kvmMappings], [b.tenantId, shared, []]);
    assertNoTraceOfA(created, 'POST /v1/fds', [shared]);
    // B's VM runs ENQCMD in global mode too, on the siov whose parent RID carries A's mdev, with A's guest PASID 5.
    const fd = `/v1/fds/${bFdId}`;
    expectStatus(await b.client.put(`${fd}/hwid-mode`, { mode: 'global' }), 200);
    expectStatus(await b.client.put(`${fd}/global-min`, { globalMin: 1024 }), 200);
    expectStatus(await b.client.post(`${fd}/ioasids`), 201);
    expectStatus(await b.client.post(`${fd}/ioasids/1/attachments`, { rid: SIOV, enqcmd: true }), 201);
    const hwid = await b.client.put(`${fd}/ioasids/1/hwid`, { pasid: 5 });
    expectStatus(hwid, 200);
    const bGlobalPasid: number = hwid.body.globalPasid;
    assert.notEqual(bGlobalPasid, aGlobalPasid);
    expectStatus(await b.client.put(`${fd}/kvm-pasid-mappings/5`, { hostPasid: bGlobalPasid }), 200);
    // A's global PASID is not B's to map; the refusal names nothing of A's.
    const stolen = await b.client.put(`${fd}/kvm-pasid-mappings/5`, { hostPasid: aGlobalPasid });
    assert.equal(stolen.body.error.code, 'PASID_NOT_OWNED');
    assertNoTraceOfA(stolen, 'PUT kvm-pasid-mappings', [shared]);
    tally.requests += 8;

    // One open fd per VM still holds, for each tenant's own VM.
    for (const [t, what] of [[a, 'A'], [b, 'B']] as const) {
      const again = await t.client.post('/v1/fds', { hostId, vmId: shared });
      tally.requests++;
      assert.equal(again.status, 409, `${what}: ${again.text}`);
      assert.equal(again.body.error.code, 'ALREADY_EXISTS');
      if (t === b) assertNoTraceOfA(again, "B's second create", [shared]);
    }

    // B's fd, lists and audit: B's VM only (the shared vmId is B's own word).
    const bView = await b.client.get(fd);
    assert.deepEqual(bView.body.kvmMappings, [{ guestPasid: 5, hostPasid: bGlobalPasid }]);
    for (const path of [fd, '/v1/fds', `/v1/fds?hostId=${hostId}`, '/v1/events', `/v1/events?hostId=${hostId}`, `/v1/events?fdId=${bFdId}`, '/v1/events?type=KvmPasidMapped', '/v1/events?type=FdCreated']) {
      const res = await b.client.get(path);
      tally.requests++;
      expectStatus(res, 200);
      assertNoTraceOfA(res, path, [shared]);
    }
    const listed = await b.client.get('/v1/fds');
    assert.deepEqual(listed.body.fds.filter((f: { vmId: string }) => f.vmId === shared).map((f: { fdId: string }) => f.fdId), [bFdId]);
    // A's fd is what it was: B's VM of the same vmId shows nowhere in it.
    const aAfter = await a.client.get(aFd);
    assert.deepEqual(withoutVersion(aAfter.body), withoutVersion(aBefore.body));
    assert.deepEqual(aAfter.body.kvmMappings, [{ guestPasid: 5, hostPasid: aGlobalPasid }]);

    // The operator's hardware view: two VMs, each CPU PASID table under <tenantId>/<vmId>.
    const hardware = await projectedHardware();
    assert.deepEqual(hardware.body.vms, { [`${a.tenantId}/${shared}`]: { 5: aGlobalPasid }, [`${b.tenantId}/${shared}`]: { 5: bGlobalPasid } });
    assert.equal((await operator.get(`/v1/hosts/${hostId}/verify`)).body.ok, true);

    // Once B's VM is gone, A's is named by its bare vmId again, its table untouched.
    expectStatus(await b.client.delete(fd), 204);
    const alone = await projectedHardware();
    assert.deepEqual(alone.body.vms, { [shared]: { 5: aGlobalPasid } });
    assert.equal((await operator.get(`/v1/hosts/${hostId}/verify`)).body.ok, true);
    tally.requests += 6;
  });

  it('stores tokens only as SHA-256 digests: no table holds a token', async () => {
    const pg = new Client({ connectionString: db.url });
    await pg.connect();
    try {
      const tables = (await pg.query(`SELECT tablename FROM pg_tables WHERE schemaname = 'public'`)).rows.map((r) => r.tablename as string);
      let dump = '';
      for (const table of tables) dump += (await pg.query(`SELECT coalesce(string_agg(t::text, E'\\n'), '') AS rows FROM "${table}" t`)).rows[0].rows;
      for (const token of [a.token, b.token, OPERATOR_TOKEN]) assert.ok(!dump.includes(token), `a table holds the token ${token.slice(0, 8)}...`);
      const hashes = (await pg.query('SELECT token_hash FROM tenants')).rows.map((r) => r.token_hash as string);
      assert.ok(hashes.includes(createHash('sha256').update(a.token).digest('hex')), 'the tenants table holds the digest');
    } finally {
      await pg.end();
    }
  });

  it('never writes a token to stdout or stderr, even at the most verbose level and on failed logins', async () => {
    // Near misses and wrong tokens are logged as failures, if at all, without the credential.
    for (const token of [`${a.token}x`, a.token.slice(0, -1), 'not-a-token']) {
      const res = await operator.as(token).get('/v1/fds');
      tally.requests++;
      assert.equal(res.status, 401);
    }
    const grpcWrong = new IoasidClient(`127.0.0.1:${server.grpcPort}`, `${b.token}y`);
    await callError(grpcWrong.call('ListFds', {}));
    grpcWrong.close();
    await server.stop();
    const output = server.output();
    assert.ok(output.includes('"msg"'), 'the server logged (JSON lines)');
    for (const token of [a.token, b.token, OPERATOR_TOKEN, `${a.token}x`, a.token.slice(0, -1), `${b.token}y`]) {
      assert.ok(!output.includes(token), `the output holds a token (${token.slice(0, 8)}...)`);
    }
    // The part of a token that identifies it: none of its 16-character slices either.
    for (const token of [a.token, b.token]) {
      for (let i = 0; i + 16 <= token.length; i += 8) assert.ok(!output.includes(token.slice(i, i + 16)), `the output holds part of a token`);
    }
  });
});
