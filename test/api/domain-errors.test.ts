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
} from '../support/app';

/**
 * Every domain refusal of API.md "Errors" that REST can cause, reached through real
 * scenarios, with its HTTP status. (NOT_MIGRATABLE and FD_MIGRATING belong to the migration
 * routes; VERSION_CONFLICT needs two replicas racing past the retry bound.)
 */
describe('REST domain errors', () => {
  let op: ApiClient;
  let tenant: ApiClient;
  let hostId: string;
  const VF1 = '0000:3b:00.1';
  const VF2 = '0000:3b:00.2';
  const NARROW = '0000:3b:00.3';
  const SIOV = '0000:5e:00.0';
  /** Used by the attachment refusals only: its owner matters there. */
  const SHARED = '0000:3b:00.5';

  const suite = useTestApp({ validateResponses: true });

  before(async () => {
    op = suite.app.operator;
    tenant = (await createTenant(op)).client;
    hostId = await registerHost(op, {
      enqcmd: true,
      nestedPasidTable: true,
      devices: [
        { rid: VF1, kind: 'vf' },
        { rid: VF2, kind: 'vf' },
        { rid: NARROW, kind: 'vf', pasidBits: 4 },
        { rid: SIOV, kind: 'siov' },
        { rid: SHARED, kind: 'vf' },
      ],
    });
  });

  /** An fd in `mode` (global with split 1024) with ioasid 1 allocated. */
  async function fdIn(mode: 'local' | 'global' | null, client = tenant, host = hostId): Promise<string> {
    const path = `/v1/fds/${await createFd(client, host)}`;
    if (mode) expectStatus(await client.put(`${path}/hwid-mode`, { mode }), 200);
    if (mode === 'global') expectStatus(await client.put(`${path}/global-min`, { globalMin: 1024 }), 200);
    expectStatus(await client.post(`${path}/ioasids`), 201);
    return path;
  }

  it('409 ALREADY_EXISTS: a second open fd for one VM on one host, a host or tenant name twice', async () => {
    expectStatus(await tenant.post('/v1/fds', { hostId, vmId: 'vm-twice' }), 201);
    expectError(await tenant.post('/v1/fds', { hostId, vmId: 'vm-twice' }), 409, 'ALREADY_EXISTS');
    expectError(await op.post('/v1/hosts', { hostId, pasidBits: 20, enqcmd: false, nestedPasidTable: false, devices: [] }), 409, 'ALREADY_EXISTS');
    expectStatus(await op.post('/v1/tenants', { name: 'twice' }), 201);
    expectError(await op.post('/v1/tenants', { name: 'twice' }), 409, 'ALREADY_EXISTS');
  });

  it('404 NOT_FOUND: an unknown host, ioasid, device or KVM mapping', async () => {
    expectError(await tenant.get('/v1/hosts/no-such-host'), 404, 'NOT_FOUND');
    expectError(await tenant.post('/v1/fds', { hostId: 'no-such-host', vmId: 'vm' }), 404, 'NOT_FOUND');
    const fd = await fdIn('global');
    expectError(await tenant.put(`${fd}/ioasids/9/hwid`, { pasid: 1 }), 404, 'NOT_FOUND');
    expectError(await tenant.post(`${fd}/ioasids/1/attachments`, { rid: '0000:ff:00.0' }), 404, 'NOT_FOUND');
    expectError(await tenant.delete(`${fd}/kvm-pasid-mappings/5`), 404, 'NOT_FOUND');
  });

  it('409 HWID_MODE_NOT_SET and HWID_MODE_ALREADY_SET', async () => {
    const fd = await fdIn(null);
    expectError(await tenant.post(`${fd}/ioasids/1/attachments`, { rid: VF1 }), 409, 'HWID_MODE_NOT_SET');
    expectStatus(await tenant.put(`${fd}/hwid-mode`, { mode: 'local' }), 200);
    expectError(await tenant.put(`${fd}/hwid-mode`, { mode: 'global' }), 409, 'HWID_MODE_ALREADY_SET');
  });

  it('409 WRONG_HWID_MODE: global-min or an enqcmd attach in local mode, a KVM mapping in local mode, a PASID table in global mode', async () => {
    const local = await fdIn('local');
    expectError(await tenant.put(`${local}/global-min`, { globalMin: 1024 }), 409, 'WRONG_HWID_MODE');
    expectError(await tenant.post(`${local}/ioasids/1/attachments`, { rid: VF1, enqcmd: true }), 409, 'WRONG_HWID_MODE');
    expectError(await tenant.put(`${local}/kvm-pasid-mappings/5`, { hostPasid: 1024 }), 409, 'WRONG_HWID_MODE');
    const global = await fdIn('global');
    expectStatus(await tenant.post(`${global}/ioasids/1/attachments`, { rid: VF2 }), 201);
    expectError(await tenant.put(`${global}/ioasids/1/pasid-table`, { gpa: '0x100000' }), 409, 'WRONG_HWID_MODE');
  });

  it('global mode refusals: GLOBAL_MIN_LOCKED, HWID_ALREADY_SET, PASID_IN_USE, PASID_OUT_OF_RANGE, PASID_NOT_OWNED, INVALID_RANGE', async () => {
    const fd = await fdIn('global');
    expectError(await tenant.put(`${fd}/global-min`, { globalMin: 0 }), 422, 'INVALID_RANGE');
    expectError(await tenant.put(`${fd}/global-min`, { globalMin: 2 ** 20 }), 422, 'INVALID_RANGE');
    expectStatus(await tenant.post(`${fd}/ioasids/1/attachments`, { rid: VF1 }), 201);
    expectError(await tenant.put(`${fd}/ioasids/1/hwid`, { pasid: 2000 }), 422, 'PASID_OUT_OF_RANGE');
    const hwid = await tenant.put(`${fd}/ioasids/1/hwid`, { pasid: 5 });
    expectStatus(hwid, 200);
    expectError(await tenant.put(`${fd}/ioasids/1/hwid`, { pasid: 6 }), 409, 'HWID_ALREADY_SET');
    expectError(await tenant.put(`${fd}/global-min`, { globalMin: 2048 }), 409, 'GLOBAL_MIN_LOCKED');
    expectStatus(await tenant.post(`${fd}/ioasids`), 201);
    expectStatus(await tenant.post(`${fd}/ioasids/2/attachments`, { rid: VF1 }), 201);
    expectError(await tenant.put(`${fd}/ioasids/2/hwid`, { pasid: 5 }), 409, 'PASID_IN_USE');
    expectError(await tenant.put(`${fd}/kvm-pasid-mappings/5`, { hostPasid: hwid.body.globalPasid + 1 }), 409, 'PASID_NOT_OWNED');
    expectError(await tenant.put(`${fd}/kvm-pasid-mappings/6`, { hostPasid: hwid.body.globalPasid }), 409, 'PASID_NOT_OWNED');
    expectStatus(await tenant.put(`${fd}/kvm-pasid-mappings/5`, { hostPasid: hwid.body.globalPasid }), 200);
  });

  it('attachment refusals: DEVICE_BUSY, ALREADY_ATTACHED, NOT_ATTACHED, IOASID_BUSY, HWID_NOT_SET', async () => {
    const owner = await fdIn('local');
    expectStatus(await tenant.post(`${owner}/ioasids/1/attachments`, { rid: SHARED }), 201);
    expectError(await tenant.post(`${owner}/ioasids/1/attachments`, { rid: SHARED }), 409, 'ALREADY_ATTACHED');
    expectError(await tenant.put(`${owner}/ioasids/1/pgtable`, { gpa: '0x7f0000' }), 409, 'HWID_NOT_SET');
    expectError(await tenant.delete(`${owner}/ioasids/1/attachments/${VF1}`), 409, 'NOT_ATTACHED');
    expectError(await tenant.delete(`${owner}/ioasids/1`), 409, 'IOASID_BUSY');
    const other = await fdIn('local');
    expectError(await tenant.post(`${other}/ioasids/1/attachments`, { rid: SHARED }), 409, 'DEVICE_BUSY');
    expectStatus(await tenant.delete(`${owner}/ioasids/1/attachments/${SHARED}`), 204);
    expectStatus(await tenant.post(`${other}/ioasids/1/attachments`, { rid: SHARED }), 201);
  });

  it('422 PASID_WIDTH_EXCEEDED: a PASID wider than the device', async () => {
    const fd = await fdIn('local');
    expectStatus(await tenant.post(`${fd}/ioasids/1/attachments`, { rid: NARROW }), 201);
    expectError(await tenant.put(`${fd}/ioasids/1/hwid`, { pasid: 20 }), 422, 'PASID_WIDTH_EXCEEDED');
    expectStatus(await tenant.put(`${fd}/ioasids/1/hwid`, { pasid: 15 }), 200);
  });

  it('409 CAPABILITY_MISSING: no ENQCMD, no nested PASID table, a PASID table on a siov device', async () => {
    const plain = await registerHost(op, { enqcmd: false, nestedPasidTable: false, devices: [{ rid: VF1, kind: 'vf' }] });
    const global = await fdIn('global', tenant, plain);
    expectError(await tenant.post(`${global}/ioasids/1/attachments`, { rid: VF1, enqcmd: true }), 409, 'CAPABILITY_MISSING');
    const local = await fdIn('local', tenant, plain);
    expectStatus(await tenant.post(`${local}/ioasids/1/attachments`, { rid: VF1 }), 201);
    expectError(await tenant.put(`${local}/ioasids/1/pasid-table`, { gpa: '0x100000' }), 409, 'CAPABILITY_MISSING');
    const siov = await fdIn('local');
    expectStatus(await tenant.post(`${siov}/ioasids/1/attachments`, { rid: SIOV }), 201);
    expectError(await tenant.put(`${siov}/ioasids/1/pasid-table`, { gpa: '0x100000' }), 409, 'CAPABILITY_MISSING');
  });

  it('429 QUOTA_EXCEEDED: more fds on a host than the tenant may hold', async () => {
    const small = (await createTenant(op, { maxFds: 1 })).client;
    await createFd(small, hostId);
    expectError(await small.post('/v1/fds', { hostId, vmId: 'vm-over' }), 429, 'QUOTA_EXCEEDED');
  });

  it('429 PASID_EXHAUSTED: no global PASID left on the host', async () => {
    const rids = ['0000:3c:00.1', '0000:3c:00.2', '0000:3c:00.3'];
    const tiny = await registerHost(op, { pasidBits: 2, devices: rids.map((rid) => ({ rid, kind: 'vf' as const })) });
    const answers = [];
    for (const rid of rids) {
      const fd = `/v1/fds/${await createFd(tenant, tiny)}`;
      expectStatus(await tenant.put(`${fd}/hwid-mode`, { mode: 'global' }), 200);
      expectStatus(await tenant.put(`${fd}/global-min`, { globalMin: 2 }), 200);
      expectStatus(await tenant.post(`${fd}/ioasids`), 201);
      expectStatus(await tenant.post(`${fd}/ioasids/1/attachments`, { rid }), 201);
      answers.push(await tenant.put(`${fd}/ioasids/1/hwid`, { pasid: 1 }));
    }
    assert.deepEqual(answers.slice(0, 2).map((r) => r.status), [200, 200]);
    assert.deepEqual(answers.slice(0, 2).map((r) => r.body.globalPasid).sort(), [2, 3]);
    expectError(answers[2], 429, 'PASID_EXHAUSTED');
  });
});
