import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  createFd,
  createTenant,
  expectError,
  expectStatus,
  readUntil,
  registerHost,
  startTestApp,
  useTestApp,
  type ApiClient,
  type TenantHandle,
  type TestApp,
} from '../support/app';

const VF = '0000:3b:00.1';
const ADDED = '0000:3b:00.2';
const TARGET_VF = '0000:af:00.1';

/** Issue 20 item 5 over REST: devices added and removed, cordon and uncordon, decommission; another replica reads each change at once. */
describe('host lifecycle (REST)', () => {
  const suite = useTestApp({ validateResponses: true });
  let op: ApiClient;
  let tenant: TenantHandle;
  let replica: TestApp;

  before(async () => {
    op = suite.app.operator;
    tenant = await createTenant(op);
    // A second process on the same database: host reads must show every change at once there too.
    replica = await startTestApp(suite.backend.env);
  });

  after(() => replica?.close());

  /** An fd of the tenant on `hostId` with `rid` attached to its ioasid 1 (local mode). */
  async function attachedFd(hostId: string, rid: string): Promise<string> {
    const fdId = await createFd(tenant.client, hostId);
    expectStatus(await tenant.client.put(`/v1/fds/${fdId}/hwid-mode`, { mode: 'local' }), 200);
    expectStatus(await tenant.client.post(`/v1/fds/${fdId}/ioasids`), 201);
    expectStatus(await tenant.client.post(`/v1/fds/${fdId}/ioasids/1/attachments`, { rid }), 201);
    return fdId;
  }

  it('adds a device (201, the host) and removes it (204) once nothing holds it; the host reads follow at once on any replica', async () => {
    const hostId = await registerHost(op, { pasidBits: 8, devices: [{ rid: VF, kind: 'vf' }] });
    const added = await op.post(`/v1/hosts/${hostId}/devices`, { rid: ADDED, kind: 'vf', pasidBits: 8 });
    expectStatus(added, 201);
    assert.deepEqual(added.body.devices, [{ rid: VF, kind: 'vf', pasidBits: 8 }, { rid: ADDED, kind: 'vf', pasidBits: 8 }]);
    assert.equal(added.body.version, 2);
    const onReplica = await replica.operator.get(`/v1/hosts/${hostId}`);
    assert.deepEqual(onReplica.body, added.body, 'read-your-writes on another replica');
    const listed = await replica.operator.get('/v1/hosts?pageSize=1000');
    assert.deepEqual(listed.body.hosts.find((h: { hostId: string }) => h.hostId === hostId), added.body);

    expectError(await op.post(`/v1/hosts/${hostId}/devices`, { rid: ADDED, kind: 'siov', pasidBits: 8 }), 409, 'ALREADY_EXISTS');
    expectError(await op.post(`/v1/hosts/${hostId}/devices`, { rid: '0000:3b:00.3', kind: 'vf', pasidBits: 9 }), 422, 'INVALID_RANGE');
    expectError(await op.post(`/v1/hosts/${hostId}/devices`, { rid: '0000:3b:00.3', kind: 'nic', pasidBits: 8 }), 400, 'VALIDATION_FAILED');
    expectError(await op.post('/v1/hosts/no-such-host/devices', { rid: ADDED, kind: 'vf', pasidBits: 8 }), 404, 'NOT_FOUND');
    expectError(await tenant.client.post(`/v1/hosts/${hostId}/devices`, { rid: '0000:3b:00.3', kind: 'vf', pasidBits: 8 }), 403, 'FORBIDDEN');

    const fdId = await attachedFd(hostId, ADDED);
    const busy = await op.delete(`/v1/hosts/${hostId}/devices/${ADDED}`);
    expectError(busy, 409, 'DEVICE_BUSY');
    assert.deepEqual(busy.body.error.details, { rid: ADDED, fdIds: [fdId] });
    expectError(await tenant.client.delete(`/v1/hosts/${hostId}/devices/${VF}`), 403, 'FORBIDDEN');
    expectStatus(await tenant.client.delete(`/v1/fds/${fdId}/ioasids/1/attachments/${ADDED}`), 204);
    expectStatus(await op.delete(`/v1/hosts/${hostId}/devices/${ADDED}`), 204);
    expectError(await op.delete(`/v1/hosts/${hostId}/devices/${ADDED}`), 404, 'NOT_FOUND');
    assert.deepEqual((await replica.operator.get(`/v1/hosts/${hostId}`)).body.devices, [{ rid: VF, kind: 'vf', pasidBits: 8 }]);
    const hardware = await readUntil(() => op.get(`/v1/hosts/${hostId}/hardware`), (res) => res.body.rids[ADDED] === undefined);
    assert.deepEqual(Object.keys(hardware.body.rids), [VF], 'the hardware lost the RID');
    const events = await op.get(`/v1/events?hostId=${hostId}&type=DeviceRemoved`);
    assert.deepEqual(events.body.events.map((e: { data: unknown }) => e.data), [{ hostId, rid: ADDED }]);
  });

  it('cordon refuses new fds and migrations in (409 HOST_CORDONED); open fds go on and migrate out; twice is a 200 without an event', async () => {
    const hostId = await registerHost(op, { devices: [{ rid: VF, kind: 'vf' }, { rid: ADDED, kind: 'vf' }] });
    const other = await registerHost(op, { devices: [{ rid: TARGET_VF, kind: 'vf' }] });
    const staying = await attachedFd(hostId, VF);
    const cordoned = await op.post(`/v1/hosts/${hostId}/cordon`);
    expectStatus(cordoned, 200);
    assert.equal(cordoned.body.cordoned, true);
    const again = await op.post(`/v1/hosts/${hostId}/cordon`, {});
    expectStatus(again, 200);
    assert.equal(again.body.version, cordoned.body.version, 'cordoning a cordoned host appends nothing');
    assert.equal((await replica.operator.get(`/v1/hosts/${hostId}`)).body.cordoned, true);
    expectError(await tenant.client.post(`/v1/hosts/${hostId}/cordon`), 403, 'FORBIDDEN');

    const refused = await tenant.client.post('/v1/fds', { hostId, vmId: 'vm-new' });
    expectError(refused, 409, 'HOST_CORDONED');
    assert.deepEqual(refused.body.error.details, { hostId });
    // The open fd keeps working.
    expectStatus(await tenant.client.post(`/v1/fds/${staying}/ioasids`), 201);
    // A migration into the cordoned host is refused, nothing changed on either host.
    const incoming = await attachedFd(other, TARGET_VF);
    expectError(await tenant.client.post(`/v1/fds/${incoming}/migrations`, { targetHostId: hostId, deviceMap: { [TARGET_VF]: ADDED } }), 409, 'HOST_CORDONED');
    const still = await tenant.client.get(`/v1/fds/${incoming}`);
    assert.equal(still.body.hostId, other);
    assert.equal(still.body.migratingTo, undefined, 'the source is not left frozen');
    // A migration out of it proceeds.
    expectStatus(await tenant.client.delete(`/v1/fds/${incoming}`), 204);
    const out = await tenant.client.post(`/v1/fds/${staying}/migrations`, { targetHostId: other, deviceMap: { [VF]: TARGET_VF } });
    expectStatus(out, 201);
    assert.equal(out.body.state, 'completed');

    const uncordoned = await op.post(`/v1/hosts/${hostId}/uncordon`);
    expectStatus(uncordoned, 200);
    assert.equal(uncordoned.body.cordoned, false);
    const twice = await op.post(`/v1/hosts/${hostId}/uncordon`);
    assert.equal(twice.body.version, uncordoned.body.version, 'uncordoning an uncordoned host appends nothing');
    await createFd(tenant.client, hostId);
    const types = (await op.get(`/v1/events?hostId=${hostId}&pageSize=1000`)).body.events.map((e: { type: string }) => e.type);
    assert.deepEqual(types.filter((t: string) => t.startsWith('Host')), ['HostRegistered', 'HostCordoned', 'HostUncordoned']);
  });

  it('decommission: refused with open fds (409 HOST_BUSY naming them); then every command is 409 HOST_DECOMMISSIONED and the history stays readable', async () => {
    const hostId = await registerHost(op, { devices: [{ rid: VF, kind: 'vf' }] });
    const other = await registerHost(op, { devices: [{ rid: TARGET_VF, kind: 'vf' }] });
    const fdId = await attachedFd(hostId, VF);
    const busy = await op.delete(`/v1/hosts/${hostId}`);
    expectError(busy, 409, 'HOST_BUSY');
    assert.deepEqual(busy.body.error.details, { hostId, fdIds: [fdId] });
    expectError(await tenant.client.delete(`/v1/hosts/${hostId}`), 403, 'FORBIDDEN');
    expectStatus(await tenant.client.delete(`/v1/fds/${fdId}`), 204);
    expectStatus(await op.delete(`/v1/hosts/${hostId}`), 204);
    expectError(await op.delete('/v1/hosts/no-such-host'), 404, 'NOT_FOUND');

    const gone = async (res: Promise<{ status: number; body: any; text: string; headers: Headers }>) => {
      const answer = await res;
      expectError(answer, 409, 'HOST_DECOMMISSIONED');
      assert.deepEqual(answer.body.error.details, { hostId });
    };
    await gone(op.post('/v1/hosts', { hostId, pasidBits: 20, enqcmd: false, nestedPasidTable: false, devices: [] }));
    await gone(op.post(`/v1/hosts/${hostId}/devices`, { rid: ADDED, kind: 'vf', pasidBits: 8 }));
    await gone(op.delete(`/v1/hosts/${hostId}/devices/${VF}`));
    await gone(op.post(`/v1/hosts/${hostId}/cordon`));
    await gone(op.post(`/v1/hosts/${hostId}/uncordon`));
    await gone(op.delete(`/v1/hosts/${hostId}`));
    await gone(tenant.client.post('/v1/fds', { hostId, vmId: 'vm-late' }));
    const incoming = await attachedFd(other, TARGET_VF);
    await gone(tenant.client.post(`/v1/fds/${incoming}/migrations`, { targetHostId: hostId, deviceMap: { [TARGET_VF]: VF } }));

    const view = await replica.operator.get(`/v1/hosts/${hostId}`);
    assert.equal(view.body.decommissioned, true);
    assert.equal((await tenant.client.get(`/v1/hosts/${hostId}`)).body.decommissioned, true);
    const events = (await op.get(`/v1/events?hostId=${hostId}&pageSize=1000`)).body.events;
    assert.equal(events.at(-1).type, 'HostDecommissioned');
    assert.equal(events.at(-1).version, view.body.version);
    const hardware = await readUntil(() => op.get(`/v1/hosts/${hostId}/hardware`), (res) => res.body.version === view.body.version);
    expectStatus(hardware, 200);
    assert.deepEqual(Object.keys(hardware.body.rids), [VF]);
    expectStatus(await op.get(`/v1/hosts/${hostId}/hardware?version=2`), 200);
    const verify = await readUntil(() => op.get(`/v1/hosts/${hostId}/verify`), (res) => res.body.ok === true);
    assert.equal(verify.body.ok, true, JSON.stringify(verify.body));
    assert.equal(verify.body.version, view.body.version);
  });
});
