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
  type ApiResponse,
} from '../support/app';

/** Bad input is 400 VALIDATION_FAILED naming each bad field (413 when too large): never a 500, never reaching the domain. */
describe('REST input validation', () => {
  let op: ApiClient;
  let tenant: ApiClient;
  let fdPath: string;
  const validHost = { hostId: 'host-v', pasidBits: 20, enqcmd: true, nestedPasidTable: true, devices: [{ rid: '0000:3b:00.1', kind: 'vf', pasidBits: 20 }] };

  const suite = useTestApp({ validateResponses: true });

  before(async () => {
    op = suite.app.operator;
    const acme = await createTenant(op);
    tenant = acme.client;
    const hostId = await registerHost(op, { devices: [{ rid: '0000:3b:00.1', kind: 'vf' }] });
    fdPath = `/v1/fds/${await createFd(tenant, hostId)}`;
    expectStatus(await tenant.put(`${fdPath}/hwid-mode`, { mode: 'local' }), 200);
    expectStatus(await tenant.post(`${fdPath}/ioasids`), 201);
  });

  function expectFieldError(res: ApiResponse, field: string): void {
    expectError(res, 400, 'VALIDATION_FAILED');
    const fields: Array<{ field: string; message: string }> = res.body.error.details.fields;
    assert.ok(
      fields.some((f) => f.field === field && f.message.length > 0),
      `details.fields names ${field}: ${JSON.stringify(fields)}`,
    );
  }

  const badHosts: Array<[string, Record<string, unknown>, string]> = [
    ['an unknown field', { ...validHost, owner: 'me' }, 'owner'],
    ['a number as a string', { ...validHost, pasidBits: '20' }, 'pasidBits'],
    ['a negative number', { ...validHost, pasidBits: -1 }, 'pasidBits'],
    ['a fraction', { ...validHost, pasidBits: 1.5 }, 'pasidBits'],
    ['a number over the PASID width', { ...validHost, pasidBits: 21 }, 'pasidBits'],
    ['a boolean as a string', { ...validHost, enqcmd: 'true' }, 'enqcmd'],
    ['a missing field', { ...validHost, nestedPasidTable: undefined }, 'nestedPasidTable'],
    ['a hostId with a slash', { ...validHost, hostId: 'a/b' }, 'hostId'],
    ['a hostId too long', { ...validHost, hostId: 'h'.repeat(129) }, 'hostId'],
    ['devices that are not a list', { ...validHost, devices: { rid: '0000:3b:00.1' } }, 'devices'],
    ['too many devices', { ...validHost, devices: Array.from({ length: 1025 }, () => validHost.devices[0]) }, 'devices'],
    ['a malformed rid', { ...validHost, devices: [{ rid: '3b:00.1', kind: 'vf', pasidBits: 20 }] }, 'devices.0.rid'],
    ['an uppercase rid', { ...validHost, devices: [{ rid: '0000:3B:00.1', kind: 'vf', pasidBits: 20 }] }, 'devices.0.rid'],
    ['an unknown device kind', { ...validHost, devices: [{ rid: '0000:3b:00.1', kind: 'pf', pasidBits: 20 }] }, 'devices.0.kind'],
    ['a device without pasidBits', { ...validHost, devices: [{ rid: '0000:3b:00.1', kind: 'vf' }] }, 'devices.0.pasidBits'],
    ['an unknown device field', { ...validHost, devices: [{ rid: '0000:3b:00.1', kind: 'vf', pasidBits: 20, x: 1 }] }, 'devices.0.x'],
  ];
  for (const [what, body, field] of badHosts) {
    it(`refuses a host with ${what}`, async () => {
      expectFieldError(await op.post('/v1/hosts', body), field);
    });
  }

  it('refuses bodies that are not a JSON object', async () => {
    expectError(await op.post('/v1/hosts', [validHost]), 400, 'VALIDATION_FAILED');
    expectError(await op.request('POST', '/v1/hosts', { rawBody: '"host"', headers: { 'content-type': 'application/json' } }), 400, 'VALIDATION_FAILED');
    expectError(await op.request('POST', '/v1/hosts', { rawBody: 'null', headers: { 'content-type': 'application/json' } }), 400, 'VALIDATION_FAILED');
  });

  it('refuses malformed JSON', async () => {
    const res = await op.request('POST', '/v1/hosts', { rawBody: '{"hostId": "h",', headers: { 'content-type': 'application/json' } });
    expectError(res, 400, 'VALIDATION_FAILED');
  });

  it('refuses a body that is not JSON', async () => {
    const res = await op.request('POST', '/v1/hosts', { rawBody: 'hostId=h&pasidBits=20', headers: { 'content-type': 'application/x-www-form-urlencoded' } });
    expectFieldError(res, 'Content-Type');
    expectFieldError(await op.request('POST', '/v1/tenants', { rawBody: '{"name":"x"}', headers: { 'content-type': 'text/plain' } }), 'Content-Type');
  });

  it('refuses a body over the size limit with 413', async () => {
    const res = await op.post('/v1/tenants', { name: 'big', padding: 'x'.repeat(300 * 1024) });
    expectError(res, 413, 'VALIDATION_FAILED');
  });

  it('refuses bad tenants', async () => {
    expectFieldError(await op.post('/v1/tenants', { name: '' }), 'name');
    expectFieldError(await op.post('/v1/tenants', { name: 42 }), 'name');
    expectFieldError(await op.post('/v1/tenants', { name: 'n'.repeat(201) }), 'name');
    expectFieldError(await op.post('/v1/tenants', { name: 'q', quotas: { maxFds: -1 } }), 'quotas.maxFds');
    expectFieldError(await op.post('/v1/tenants', { name: 'q', quotas: { maxHostPasids: 0.5 } }), 'quotas.maxHostPasids');
    expectFieldError(await op.post('/v1/tenants', { name: 'q', quotas: { maxPasids: 1 } }), 'quotas.maxPasids');
    expectFieldError(await op.post('/v1/tenants', { name: 'q', quotas: 'many' }), 'quotas');
  });

  it('refuses bad fd requests', async () => {
    expectFieldError(await tenant.post('/v1/fds', { hostId: 'host-v' }), 'vmId');
    expectFieldError(await tenant.post('/v1/fds', { hostId: 'host-v', vmId: 7 }), 'vmId');
    expectFieldError(await tenant.put(`${fdPath}/hwid-mode`, { mode: 'both' }), 'mode');
    for (const globalMin of [-1, 1.5, '1024', null, true]) {
      expectFieldError(await tenant.put(`${fdPath}/global-min`, { globalMin }), 'globalMin');
    }
    expectFieldError(await tenant.post(`${fdPath}/ioasids`, { ioasid: 7 }), 'ioasid');
  });

  it('refuses bad attachments and hwids', async () => {
    expectFieldError(await tenant.post(`${fdPath}/ioasids/1/attachments`, { rid: '0000:3b:00.8' }), 'rid');
    expectFieldError(await tenant.post(`${fdPath}/ioasids/1/attachments`, { rid: '0000:3b:00.1', enqcmd: 'yes' }), 'enqcmd');
    expectFieldError(await tenant.put(`${fdPath}/ioasids/1/hwid`, { pasid: -5 }), 'pasid');
    expectFieldError(await tenant.put(`${fdPath}/ioasids/1/hwid`, { pasid: 5.5 }), 'pasid');
    expectFieldError(await tenant.put(`${fdPath}/ioasids/1/hwid`, { pasid: 2 ** 31 }), 'pasid');
    expectFieldError(await tenant.put(`${fdPath}/kvm-pasid-mappings/5`, { hostPasid: '1024' }), 'hostPasid');
  });

  const badGpas: Array<[string, unknown]> = [
    ['without 0x', '7f0000'],
    ['not page aligned', '0x7f0001'],
    ['not hex', '0xzz000'],
    ['a number', 0x7f0000],
    ['over 64 bits', `0x1${'0'.repeat(16)}`],
    ['empty', ''],
    ['an uppercase prefix', '0X7F0000'],
  ];
  for (const [what, gpa] of badGpas) {
    it(`refuses a GPA ${what}`, async () => {
      expectFieldError(await tenant.put(`${fdPath}/ioasids/1/pgtable`, { gpa }), 'gpa');
      expectFieldError(await tenant.put(`${fdPath}/ioasids/1/pasid-table`, { gpa }), 'gpa');
    });
  }

  it('refuses path parameters of the wrong form', async () => {
    for (const ioasid of ['abc', '1.5', '-1', '1e3', '99999999999']) {
      expectFieldError(await tenant.delete(`${fdPath}/ioasids/${ioasid}`), 'ioasid');
    }
    expectFieldError(await tenant.delete(`${fdPath}/kvm-pasid-mappings/x`), 'guestPasid');
    expectFieldError(await tenant.get('/v1/fds/not-an-fd'), 'fdId');
    expectFieldError(await tenant.delete(`${fdPath}/ioasids/1/attachments/nope`), 'rid');
    expectFieldError(await op.get('/v1/hosts/a%20b'), 'hostId');
  });

  it('answers 404 for a well-formed fd that does not exist', async () => {
    expectError(await tenant.get('/v1/fds/00000000-0000-4000-8000-000000000000'), 404, 'NOT_FOUND');
  });

  it('refuses bad queries', async () => {
    expectFieldError(await tenant.get('/v1/events?pageSize=0'), 'pageSize');
    expectFieldError(await tenant.get('/v1/events?pageSize=5000'), 'pageSize');
    expectFieldError(await tenant.get('/v1/events?pageSize=ten'), 'pageSize');
    expectFieldError(await tenant.get('/v1/events?afterVersion=-1'), 'afterVersion');
    expectFieldError(await tenant.get('/v1/events?fdId=x'), 'fdId');
    expectFieldError(await tenant.get('/v1/events?color=red'), 'color');
    expectFieldError(await tenant.get('/v1/events?pageSize=1&pageSize=2'), 'pageSize');
    expectFieldError(await op.get('/v1/hosts/host-v/hardware?version=abc'), 'version');
    expectFieldError(await tenant.delete(`${fdPath}/ioasids/1/attachments/0000:3b:00.1?mdevId=a/b`), 'mdevId');
  });

  it('refuses an Idempotency-Key over 255 characters', async () => {
    const res = await tenant.post(`${fdPath}/ioasids`, undefined, { headers: { 'idempotency-key': 'k'.repeat(256) } });
    expectFieldError(res, 'Idempotency-Key');
  });

  it('answers 404 NOT_FOUND for unknown routes and methods', async () => {
    expectError(await op.get('/v1/nothing'), 404, 'NOT_FOUND');
    expectError(await op.request('PATCH', '/v1/fds'), 404, 'NOT_FOUND');
    expectError(await op.get('/nothing'), 404, 'NOT_FOUND');
  });

  it('accepts GPAs in any hex case and keeps one canonical form', async () => {
    expectStatus(await tenant.post(`${fdPath}/ioasids/1/attachments`, { rid: '0000:3b:00.1' }), 201);
    expectStatus(await tenant.put(`${fdPath}/ioasids/1/hwid`, { pasid: 7 }), 200);
    expectStatus(await tenant.put(`${fdPath}/ioasids/1/pgtable`, { gpa: '0x0007F0000' }), 200);
    const fd = await tenant.get(fdPath);
    assert.equal(fd.body.ioasids[0].pgtableGpa, '0x7f0000');
  });
});
