import assert from 'node:assert/strict';
import { readUntil, type ApiClient } from './app';

/**
 * The README's worked example (seed scenario 3, SR-IOV with ENQCMD), written once and run
 * through any client of the REST API: the hand-written ApiClient (test/api/enqcmd-scenario)
 * and a client generated from the OpenAPI document (test/api/generated-client).
 */

export interface Answer {
  status: number;
  body: any;
}

/** Who calls: a tenant's token, or undefined for the operator. */
export type Caller = string | undefined;

/** The operations the scenario calls, as one client or another sends them. */
export interface ScenarioCalls {
  createTenant(body: object): Promise<Answer>;
  registerHost(body: object): Promise<Answer>;
  createFd(as: Caller, body: object): Promise<Answer>;
  getFd(as: Caller, fdId: string): Promise<Answer>;
  setHwidMode(as: Caller, fdId: string, body: object): Promise<Answer>;
  setGlobalMin(as: Caller, fdId: string, body: object): Promise<Answer>;
  allocIoasid(as: Caller, fdId: string): Promise<Answer>;
  attachDevice(as: Caller, fdId: string, ioasid: number, body: object): Promise<Answer>;
  setHwid(as: Caller, fdId: string, ioasid: number, body: object): Promise<Answer>;
  getHwid(as: Caller, fdId: string, ioasid: number): Promise<Answer>;
  bindPgtable(as: Caller, fdId: string, ioasid: number, body: object): Promise<Answer>;
  setKvmPasidMapping(as: Caller, fdId: string, guestPasid: number, body: object): Promise<Answer>;
  getHardware(hostId: string): Promise<Answer>;
  verifyHost(hostId: string): Promise<Answer>;
  listEvents(as: Caller, hostId: string): Promise<Answer>;
}

/** The scenario's calls through the hand-written ApiClient, at the routes of docs/API.md. */
export function restCalls(operator: ApiClient): ScenarioCalls {
  const client = (as: Caller): ApiClient => (as === undefined ? operator : operator.as(as));
  const fd = (fdId: string): string => `/v1/fds/${fdId}`;
  return {
    createTenant: (body) => operator.post('/v1/tenants', body),
    registerHost: (body) => operator.post('/v1/hosts', body),
    createFd: (as, body) => client(as).post('/v1/fds', body),
    getFd: (as, fdId) => client(as).get(fd(fdId)),
    setHwidMode: (as, fdId, body) => client(as).put(`${fd(fdId)}/hwid-mode`, body),
    setGlobalMin: (as, fdId, body) => client(as).put(`${fd(fdId)}/global-min`, body),
    allocIoasid: (as, fdId) => client(as).post(`${fd(fdId)}/ioasids`),
    attachDevice: (as, fdId, ioasid, body) => client(as).post(`${fd(fdId)}/ioasids/${ioasid}/attachments`, body),
    setHwid: (as, fdId, ioasid, body) => client(as).put(`${fd(fdId)}/ioasids/${ioasid}/hwid`, body),
    getHwid: (as, fdId, ioasid) => client(as).get(`${fd(fdId)}/ioasids/${ioasid}/hwid`),
    bindPgtable: (as, fdId, ioasid, body) => client(as).put(`${fd(fdId)}/ioasids/${ioasid}/pgtable`, body),
    setKvmPasidMapping: (as, fdId, guestPasid, body) => client(as).put(`${fd(fdId)}/kvm-pasid-mappings/${guestPasid}`, body),
    getHardware: (hostId) => operator.get(`/v1/hosts/${hostId}/hardware`),
    verifyHost: (hostId) => operator.get(`/v1/hosts/${hostId}/verify`),
    listEvents: (as, hostId) => client(as).get(`/v1/events?hostId=${hostId}`),
  };
}

function expectAnswer(res: Answer, status: number): void {
  if (res.status !== status) throw new Error(`expected HTTP ${status}, got ${res.status}: ${JSON.stringify(res.body)}`);
}

/**
 * A VM in global hwid mode with local PASIDs below 1024, two enqcmd devices sharing one global
 * PASID, and the KVM translation guest PASID 5 -> that global PASID; every answer as documented.
 */
export async function runEnqcmdScenario(api: ScenarioCalls): Promise<void> {
  const tenant = await api.createTenant({ name: 'acme', quotas: { maxFds: 8 } });
  expectAnswer(tenant, 201);
  assert.equal(tenant.body.name, 'acme');
  assert.deepEqual(tenant.body.quotas, { maxFds: 8, maxHostPasids: 4096 });
  assert.match(tenant.body.token, /\S{16,}/);
  const acme: Caller = tenant.body.token;

  const host = await api.registerHost({
    hostId: 'host-a',
    pasidBits: 20,
    enqcmd: true,
    nestedPasidTable: false,
    devices: [
      { rid: '0000:3b:00.1', kind: 'vf', pasidBits: 20 },
      { rid: '0000:3b:00.2', kind: 'vf', pasidBits: 20 },
    ],
  });
  expectAnswer(host, 201);
  assert.equal(host.body.hostId, 'host-a');
  assert.equal(host.body.devices.length, 2);

  const fd = await api.createFd(acme, { hostId: 'host-a', vmId: 'vm-1' });
  expectAnswer(fd, 201);
  assert.equal(fd.body.tenantId, tenant.body.tenantId);
  assert.equal(fd.body.hwidMode, null);
  assert.equal(fd.body.migratable, true);
  const fdId: string = fd.body.fdId;

  const mode = await api.setHwidMode(acme, fdId, { mode: 'global' });
  expectAnswer(mode, 200);
  assert.equal(mode.body.hwidMode, 'global');

  const split = await api.setGlobalMin(acme, fdId, { globalMin: 1024 });
  expectAnswer(split, 200);
  assert.equal(split.body.globalMin, 1024);

  const ioasid = await api.allocIoasid(acme, fdId);
  expectAnswer(ioasid, 201);
  assert.deepEqual(ioasid.body, { ioasid: 1 });

  for (const [i, rid] of ['0000:3b:00.1', '0000:3b:00.2'].entries()) {
    const attached = await api.attachDevice(acme, fdId, 1, { rid, enqcmd: true });
    expectAnswer(attached, 201);
    assert.deepEqual(attached.body, { vdevId: `vdev-${i + 1}`, rid, ioasid: 1, enqcmd: true });
  }

  const hwid = await api.setHwid(acme, fdId, 1, { pasid: 5 });
  expectAnswer(hwid, 200);
  assert.equal(hwid.body.ioasid, 1);
  assert.equal(hwid.body.pasid, 5);
  const globalPasid: number = hwid.body.globalPasid;
  assert.ok(globalPasid >= 1024 && globalPasid < 2 ** 20, `global PASID ${globalPasid} lies in [1024, 2^20)`);

  expectAnswer(await api.bindPgtable(acme, fdId, 1, { gpa: '0x7f0000' }), 200);
  const kvm = await api.setKvmPasidMapping(acme, fdId, 5, { hostPasid: globalPasid });
  expectAnswer(kvm, 200);

  const read = await api.getHwid(acme, fdId, 1);
  expectAnswer(read, 200);
  assert.deepEqual(read.body, { ioasid: 1, pasid: 5, hostPasid: globalPasid });

  const view = await api.getFd(acme, fdId);
  expectAnswer(view, 200);
  assert.deepEqual(view.body.ioasids, [
    {
      ioasid: 1,
      pasid: 5,
      globalPasid,
      pgtableGpa: '0x7f0000',
      attachments: [
        { vdevId: 'vdev-1', rid: '0000:3b:00.1', enqcmd: true },
        { vdevId: 'vdev-2', rid: '0000:3b:00.2', enqcmd: true },
      ],
    },
  ]);
  assert.deepEqual(view.body.kvmMappings, [{ guestPasid: 5, hostPasid: globalPasid }]);

  // 10 events on host-a: registration, fd, mode, split, ioasid, 2 attaches, hwid, pgtable, KVM (GET hwid in global mode adds none).
  const hardware = await readUntil(() => api.getHardware('host-a'), (r) => r.status === 200 && r.body.version === 10);
  expectAnswer(hardware, 200);
  assert.equal(hardware.body.version, 10);
  assert.match(hardware.body.hash, /^[0-9a-f]{64}$/);
  for (const rid of ['0000:3b:00.1', '0000:3b:00.2']) {
    // enqcmd attachments are programmed at the global PASID only.
    const entries = hardware.body.rids[rid].pasids;
    assert.deepEqual(Object.keys(entries), [String(globalPasid)]);
    assert.equal(entries[globalPasid].origin, 'global');
    assert.equal(entries[globalPasid].fdId, fdId);
    assert.equal(entries[globalPasid].firstStageGpa, '0x7f0000');
    assert.deepEqual(hardware.body.rids[rid].context, { table: 'host' });
  }
  assert.deepEqual(hardware.body.vms, { 'vm-1': { '5': globalPasid } });
  assert.equal(hardware.body.allocator.used, 1);

  const verify = await api.verifyHost('host-a');
  expectAnswer(verify, 200);
  assert.equal(verify.body.ok, true);
  assert.equal(verify.body.version, 10);
  assert.equal(verify.body.hash, hardware.body.hash);

  const events = await api.listEvents(acme, 'host-a');
  expectAnswer(events, 200);
  assert.deepEqual(
    events.body.events.map((e: { type: string }) => e.type),
    ['FdCreated', 'HwidModeSet', 'GlobalMinSet', 'IoasidAllocated', 'DeviceAttached', 'DeviceAttached', 'HwidSet', 'PgtableBound', 'KvmPasidMapped'],
    'the tenant sees its own events, not the operator host registration',
  );
  const all = await api.listEvents(undefined, 'host-a');
  assert.equal(all.body.events[0].type, 'HostRegistered');
  assert.deepEqual(
    all.body.events.map((e: { version: number }) => e.version),
    [1, 2, 3, 4, 5, 6, 7, 8, 9, 10],
  );
}
