import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import {
  createFd,
  createTenant,
  expectStatus,
  readUntil,
  registerHost,
  useTestApp,
  type ApiClient,
  type TenantHandle,
} from '../support/app';

/** The routes the ENQCMD scenario does not walk: local mode (vf and siov), PASID tables, undo operations, lists and paging. */
describe('REST routes', () => {
  let op: ApiClient;
  let acme: TenantHandle;
  let hostId: string;
  const VF = '0000:3b:00.1';
  const SIOV = '0000:5e:00.0';

  const suite = useTestApp({ validateResponses: true });

  before(async () => {
    op = suite.app.operator;
    acme = await createTenant(op);
    hostId = await registerHost(op, { nestedPasidTable: true, devices: [{ rid: VF, kind: 'vf' }, { rid: SIOV, kind: 'siov' }] });
  });

  it('lists and reads hosts', async () => {
    const list = await acme.client.get('/v1/hosts');
    expectStatus(list, 200);
    const host = list.body.hosts.find((h: { hostId: string }) => h.hostId === hostId);
    assert.deepEqual(
      { ...host, version: undefined },
      {
        hostId,
        pasidBits: 20,
        enqcmd: true,
        nestedPasidTable: true,
        devices: [
          { rid: VF, kind: 'vf', pasidBits: 20 },
          { rid: SIOV, kind: 'siov', pasidBits: 20 },
        ],
        reservedPasids: [],
        cordoned: false,
        decommissioned: false,
        version: undefined,
      },
    );
    const one = await acme.client.get(`/v1/hosts/${hostId}`);
    expectStatus(one, 200);
    assert.equal(one.body.hostId, hostId);
  });

  it('runs a vf in local mode with a guest PASID table (scenario 1)', async () => {
    const fd = `/v1/fds/${await createFd(acme.client, hostId)}`;
    expectStatus(await acme.client.put(`${fd}/hwid-mode`, { mode: 'local' }), 200);
    expectStatus(await acme.client.post(`${fd}/ioasids`), 201);
    expectStatus(await acme.client.post(`${fd}/ioasids/1/attachments`, { rid: VF }), 201);
    const table = await acme.client.put(`${fd}/ioasids/1/pasid-table`, { gpa: '0x100000' });
    expectStatus(table, 200);
    const view = await acme.client.get(fd);
    assert.equal(view.body.ioasids[0].pasidTableGpa, '0x100000');
    const hardware = await readUntil(() => op.get(`/v1/hosts/${hostId}/hardware`), (r) => r.body?.version === view.body.version);
    assert.deepEqual(hardware.body.rids[VF].context, { table: 'guest', gpa: '0x100000' });
    expectStatus(await acme.client.delete(`${fd}/ioasids/1/attachments/${VF}`), 204);
    const closed = await acme.client.delete(fd);
    assert.equal(closed.status, 204);
    assert.equal(closed.text, '');
    expectStatus(await acme.client.get(fd), 404);
  });

  it('runs a siov device in local mode: a real PASID, exposed by GET hwid, and a detach by mdev', async () => {
    const fdId = await createFd(acme.client, hostId);
    const fd = `/v1/fds/${fdId}`;
    expectStatus(await acme.client.put(`${fd}/hwid-mode`, { mode: 'local' }), 200);
    expectStatus(await acme.client.post(`${fd}/ioasids`), 201);
    const attached = await acme.client.post(`${fd}/ioasids/1/attachments`, { rid: SIOV });
    expectStatus(attached, 201);
    assert.equal(attached.body.enqcmd, false);
    assert.match(attached.body.mdevId, /\S/);
    const hwid = await acme.client.put(`${fd}/ioasids/1/hwid`, { pasid: 9 });
    expectStatus(hwid, 200);
    assert.deepEqual(hwid.body, { ioasid: 1, pasid: 9 });
    expectStatus(await acme.client.put(`${fd}/ioasids/1/pgtable`, { gpa: '0x7f0000' }), 200);
    assert.equal((await acme.client.get(fd)).body.migratable, true);

    const read = await acme.client.get(`${fd}/ioasids/1/hwid`);
    expectStatus(read, 200);
    assert.equal(read.body.pasid, 9);
    assert.ok(read.body.hostPasid >= 1);
    const after = await acme.client.get(fd);
    assert.equal(after.body.migratable, false, 'a real siov PASID exposed in local mode pins the VM');
    assert.match(after.body.migratableReason, /\S/);
    const exposed = await acme.client.get(`/v1/events?fdId=${fdId}&type=HwidExposed`);
    assert.equal(exposed.body.events.length, 1);

    expectStatus(await acme.client.delete(`${fd}/ioasids/1/pgtable`), 204);
    expectStatus(await acme.client.delete(`${fd}/ioasids/1/attachments/${SIOV}?mdevId=${attached.body.mdevId}`), 204);
    expectStatus(await acme.client.delete(`${fd}/ioasids/1`), 204);
    assert.deepEqual((await acme.client.get(fd)).body.ioasids, []);
    expectStatus(await acme.client.delete(fd), 204);
  });

  it('unmaps KVM PASID mappings', async () => {
    const fd = `/v1/fds/${await createFd(acme.client, hostId)}`;
    expectStatus(await acme.client.put(`${fd}/hwid-mode`, { mode: 'global' }), 200);
    expectStatus(await acme.client.put(`${fd}/global-min`, { globalMin: 64 }), 200);
    expectStatus(await acme.client.post(`${fd}/ioasids`), 201);
    expectStatus(await acme.client.post(`${fd}/ioasids/1/attachments`, { rid: SIOV, enqcmd: true }), 201);
    const hwid = await acme.client.put(`${fd}/ioasids/1/hwid`, { pasid: 3 });
    expectStatus(await acme.client.put(`${fd}/kvm-pasid-mappings/3`, { hostPasid: hwid.body.globalPasid }), 200);
    assert.deepEqual((await acme.client.get(fd)).body.kvmMappings, [{ guestPasid: 3, hostPasid: hwid.body.globalPasid }]);
    expectStatus(await acme.client.delete(`${fd}/kvm-pasid-mappings/3`), 204);
    assert.deepEqual((await acme.client.get(fd)).body.kvmMappings, []);
    expectStatus(await acme.client.delete(fd), 204);
  });

  it('lists fds by host', async () => {
    const otherHost = await registerHost(op, { devices: [{ rid: VF, kind: 'vf' }] });
    const here = await createFd(acme.client, hostId);
    const there = await createFd(acme.client, otherHost);
    const ids = async (query: string): Promise<string[]> => (await acme.client.get(`/v1/fds${query}`)).body.fds.map((f: { fdId: string }) => f.fdId);
    assert.ok((await ids('')).includes(here) && (await ids('')).includes(there));
    assert.deepEqual(await ids(`?hostId=${otherHost}`), [there]);
    assert.ok(!(await ids(`?hostId=${hostId}`)).includes(there));
    const one = await acme.client.get(`/v1/fds/${there}`);
    assert.equal(one.body.hostId, otherHost);
  });

  it('pages and filters events', async () => {
    const all = await op.get(`/v1/events?hostId=${hostId}&pageSize=1000`);
    const versions = all.body.events.map((e: { version: number }) => e.version);
    assert.deepEqual(versions, Array.from({ length: versions.length }, (_, i) => i + 1));
    assert.equal(all.body.nextPageToken, undefined);

    const paged: number[] = [];
    let token: string | undefined;
    do {
      const page = await op.get(`/v1/events?hostId=${hostId}&pageSize=3${token ? `&pageToken=${encodeURIComponent(token)}` : ''}`);
      expectStatus(page, 200);
      assert.ok(page.body.events.length <= 3);
      paged.push(...page.body.events.map((e: { version: number }) => e.version));
      token = page.body.nextPageToken;
    } while (token);
    assert.deepEqual(paged, versions);

    const later = await op.get(`/v1/events?hostId=${hostId}&afterVersion=5&pageSize=1000`);
    assert.deepEqual(later.body.events.map((e: { version: number }) => e.version), versions.slice(5));
    const typed = await op.get(`/v1/events?hostId=${hostId}&type=FdCreated&pageSize=1000`);
    assert.ok(typed.body.events.length >= 4);
    for (const e of typed.body.events) assert.equal(e.type, 'FdCreated');

    const envelope = all.body.events[1];
    for (const field of ['eventId', 'hostId', 'version', 'type', 'schemaVersion', 'occurredAt', 'actor', 'commandId', 'correlationId', 'data', 'prevHash', 'hash']) {
      assert.ok(field in envelope, `envelope has ${field}`);
    }
    assert.equal(envelope.prevHash, all.body.events[0].hash);
  });

  it('shows the hardware as of an earlier version', async () => {
    const fd = `/v1/fds/${await createFd(acme.client, hostId)}`;
    expectStatus(await acme.client.put(`${fd}/hwid-mode`, { mode: 'local' }), 200);
    expectStatus(await acme.client.post(`${fd}/ioasids`), 201);
    expectStatus(await acme.client.post(`${fd}/ioasids/1/attachments`, { rid: VF }), 201);
    expectStatus(await acme.client.put(`${fd}/ioasids/1/hwid`, { pasid: 12 }), 200);
    const bound = await acme.client.put(`${fd}/ioasids/1/pgtable`, { gpa: '0x200000' });
    expectStatus(bound, 200);
    const head = (await acme.client.get(fd)).body.version;
    const now = await readUntil(() => op.get(`/v1/hosts/${hostId}/hardware`), (r) => r.body?.version === head);
    assert.equal(now.body.rids[VF].pasids['12'].firstStageGpa, '0x200000');
    const before = await op.get(`/v1/hosts/${hostId}/hardware?version=${head - 1}`);
    expectStatus(before, 200);
    assert.equal(before.body.version, head - 1);
    assert.equal(before.body.rids[VF].pasids['12'], undefined);
    assert.notEqual(before.body.hash, now.body.hash);
  });
});
