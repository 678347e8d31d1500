import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { postgresBackend, startTestApp, TEST_OPERATOR_TOKEN, unique, type TestApp, type TestBackend } from '../support/app';
import { descriptorFilesFor, healthStatus, IoasidClient, listServicesByReflection, readUntil } from './grpc-client';

const RID_A = '0000:3b:00.1';
const RID_B = '0000:3b:00.2';
const GPA = '0x7f0000';

/**
 * The seed's scenario 3 (SR-IOV with ENQCMD, Intel) driven entirely over gRPC: PASID
 * global with a local/global split at 1024, two vf devices attached for ENQCMD, the
 * guest's PASID 5 backed by one host-allocated global PASID that KVM translates to.
 */
describe('gRPC: scenario 3 end to end on PostgreSQL', () => {
  let backend: TestBackend;
  let app: TestApp;
  let operator: IoasidClient;
  let tenant: IoasidClient;
  let grpcUrl: string;

  before(async () => {
    backend = await postgresBackend();
    app = await startTestApp(backend.env);
    assert.ok(app.started.grpcUrl, 'the started app reports its gRPC address');
    grpcUrl = app.started.grpcUrl;
    operator = new IoasidClient(grpcUrl, TEST_OPERATOR_TOKEN);
  });

  after(async () => {
    tenant?.close();
    operator?.close();
    await app?.close();
    await backend?.dispose();
  });

  it('serves the whole flow, with the same answers REST documents', async () => {
    const created = await operator.call('CreateTenant', { name: unique('acme'), quotas: { maxFds: 4 } });
    assert.match(created.tenantId, /\S/);
    assert.equal(created.quotas.maxFds, 4);
    assert.ok(created.quotas.maxHostPasids > 0, 'omitted quotas take the defaults');
    assert.match(created.token, /\S/);
    tenant = operator.as(created.token);

    const hostId = unique('host');
    const host = await operator.call('RegisterHost', {
      hostId,
      pasidBits: 20,
      enqcmd: true,
      nestedPasidTable: false,
      devices: [
        { rid: RID_A, kind: 'vf', pasidBits: 20 },
        { rid: RID_B, kind: 'vf', pasidBits: 20 },
      ],
    });
    assert.equal(host.hostId, hostId);
    assert.equal(host.enqcmd, true);
    assert.equal(host.nestedPasidTable, false);
    assert.deepEqual(
      host.devices.map((d: { rid: string; kind: string }) => [d.rid, d.kind]),
      [
        [RID_A, 'vf'],
        [RID_B, 'vf'],
      ],
    );

    const listed = await tenant.call('ListHosts', {});
    assert.ok(listed.hosts.some((h: { hostId: string }) => h.hostId === hostId));
    assert.equal((await tenant.call('GetHost', { hostId })).hostId, hostId);

    const vmId = unique('vm');
    const fd = await tenant.call('CreateFd', { hostId, vmId });
    assert.equal(fd.tenantId, created.tenantId);
    assert.equal(fd.vmId, vmId);
    assert.equal(fd.hwidMode, undefined, 'no mode until set');
    const fdId: string = fd.fdId;

    assert.equal((await tenant.call('SetHwidMode', { fdId, mode: 'global' })).hwidMode, 'global');
    assert.equal((await tenant.call('SetGlobalMin', { fdId, globalMin: 1024 })).globalMin, 1024);

    const { ioasid } = await tenant.call<{ ioasid: number }>('AllocIoasid', { fdId });
    assert.equal(ioasid, 1, 'the lowest free ioasid id');

    for (const rid of [RID_A, RID_B]) {
      const attached: { rid: string; ioasid: number; enqcmd: boolean } = await tenant.call('AttachDevice', { fdId, ioasid, rid, enqcmd: true });
      assert.deepEqual({ rid: attached.rid, ioasid: attached.ioasid, enqcmd: attached.enqcmd }, { rid, ioasid, enqcmd: true });
    }

    const hwid = await tenant.call('SetHwid', { fdId, ioasid, pasid: 5 });
    assert.equal(hwid.pasid, 5);
    const globalPasid: number = hwid.globalPasid;
    assert.ok(globalPasid >= 1024 && globalPasid < 2 ** 20, `global PASID ${globalPasid} lies in [globalMin, 2^20)`);

    const bound = await tenant.call('BindPgtable', { fdId, ioasid, gpa: GPA });
    assert.equal(bound.pgtableGpa, GPA);
    assert.equal(bound.globalPasid, globalPasid);
    assert.deepEqual(bound.attachments.map((a: { rid: string }) => a.rid).sort(), [RID_A, RID_B]);

    const readBack = await tenant.call('GetHwid', { fdId, ioasid });
    assert.deepEqual(readBack, { ioasid, pasid: 5, hostPasid: globalPasid });

    const correlationId = `orchestrator-${unique('op')}`;
    const mapping = await tenant.call('SetKvmPasidMapping', { fdId, guestPasid: 5, hostPasid: globalPasid }, { correlationId });
    assert.deepEqual(mapping, { guestPasid: 5, hostPasid: globalPasid });

    const final = await tenant.call('GetFd', { fdId });
    assert.equal(final.migratable, true);
    assert.deepEqual(final.kvmMappings, [{ guestPasid: 5, hostPasid: globalPasid }]);
    assert.equal(final.ioasids[0].pasid, 5);
    assert.equal((await tenant.call('ListFds', { hostId })).fds.length, 1);

    // The hardware: ENQCMD attachments in global mode are programmed at the global PASID only.
    const hardware = await readUntil(
      () => operator.call('GetHardware', { hostId }),
      (view) => view.version === final.version,
    );
    assert.equal(hardware.version, final.version, 'the projection caught up with the fd');
    const rids = JSON.parse(hardware.ridsJson);
    for (const rid of [RID_A, RID_B]) {
      assert.deepEqual(Object.keys(rids[rid].pasids), [String(globalPasid)], `${rid} holds only the global PASID`);
      const entry = rids[rid].pasids[globalPasid];
      assert.deepEqual(
        { fdId: entry.fdId, ioasid: entry.ioasid, origin: entry.origin, firstStageGpa: entry.firstStageGpa },
        { fdId, ioasid, origin: 'global', firstStageGpa: GPA },
      );
    }
    assert.deepEqual(JSON.parse(hardware.vmsJson), { [vmId]: { 5: globalPasid } });
    assert.equal(hardware.allocator.used, 1);

    const verified = await operator.call('VerifyHost', { hostId });
    assert.equal(verified.ok, true);
    assert.equal(verified.version, final.version);
    assert.equal(verified.hash, hardware.hash, 'replay and live projection agree');

    const page = await tenant.call('ListEvents', { hostId, fdId });
    assert.deepEqual(
      page.events.map((e: { type: string }) => e.type),
      ['FdCreated', 'HwidModeSet', 'GlobalMinSet', 'IoasidAllocated', 'DeviceAttached', 'DeviceAttached', 'HwidSet', 'PgtableBound', 'KvmPasidMapped'],
    );
    const hwidSet = page.events.find((e: { type: string }) => e.type === 'HwidSet');
    assert.deepEqual(JSON.parse(hwidSet.dataJson), { fdId, ioasid, pasid: 5, globalPasid });
    assert.equal(hwidSet.actor, `tenant:${created.tenantId}`);
    const kvmMapped = page.events.find((e: { type: string }) => e.type === 'KvmPasidMapped');
    assert.equal(kvmMapped.correlationId, correlationId, 'the caller\'s x-correlation-id is recorded');
    assert.notEqual(hwidSet.correlationId, correlationId);
    for (let i = 1; i < page.events.length; i++) {
      assert.equal(page.events[i].prevHash, page.events[i - 1].hash, 'the hash chain links each event to the previous one');
    }

    const firstPage = await tenant.call('ListEvents', { hostId, fdId, pageSize: 4 });
    assert.equal(firstPage.events.length, 4);
    const secondPage = await tenant.call('ListEvents', { hostId, fdId, pageSize: 100, pageToken: firstPage.nextPageToken });
    assert.deepEqual(
      [...firstPage.events, ...secondPage.events].map((e: { version: number }) => e.version),
      page.events.map((e: { version: number }) => e.version),
      'pages follow each other',
    );
    assert.equal(secondPage.nextPageToken, undefined, 'the last page has no token');

    // As of the HwidSet event, before the page table was bound, nothing was programmed yet.
    const beforeBind = await operator.call('GetHardware', { hostId, version: hwidSet.version });
    assert.equal(beforeBind.version, hwidSet.version);
    const ridsThen = JSON.parse(beforeBind.ridsJson);
    assert.deepEqual(Object.keys(ridsThen[RID_A]?.pasids ?? {}), []);

    await tenant.call('UnsetKvmPasidMapping', { fdId, guestPasid: 5 });
    await tenant.call('UnbindPgtable', { fdId, ioasid });
    await tenant.call('DetachDevice', { fdId, ioasid, rid: RID_B });
    await tenant.call('DetachDevice', { fdId, ioasid, rid: RID_A });
    await tenant.call('FreeIoasid', { fdId, ioasid });
    await tenant.call('CloseFd', { fdId });
    assert.deepEqual((await tenant.call('ListFds', {})).fds ?? [], [], 'a closed fd is gone');
  });

  it('offers the standard health service: SERVING overall and for ioasid.v1.IoasidService', async () => {
    assert.equal(await healthStatus(grpcUrl, ''), 'SERVING');
    assert.equal(await healthStatus(grpcUrl, 'ioasid.v1.IoasidService'), 'SERVING');
  });

  it('describes itself through server reflection', async () => {
    const services = await listServicesByReflection(grpcUrl);
    assert.ok(services.includes('ioasid.v1.IoasidService'), `reflection lists ${services.join(', ')}`);
    assert.ok(services.includes('grpc.health.v1.Health'));
    // @grpc/reflection drops imports from the descriptors it serves (grpc/grpc-node#3034):
    // the service must be describable from its own file alone, or `grpcurl describe` fails.
    assert.equal(await descriptorFilesFor(grpcUrl, 'ioasid.v1.IoasidService'), 1, 'one self-contained file describes the service');
  });
});
