import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { expectStatus, pgliteBackend, postgresBackend, readUntil, useTestApp, type TestBackend } from '../support/app';

/**
 * The README's worked example (seed scenario 3, SR-IOV with ENQCMD): a VM in global hwid
 * mode with local PASIDs below 1024, two enqcmd devices sharing one global PASID, and the
 * KVM translation guest PASID 5 -> that global PASID. Run on PostgreSQL and on the
 * embedded PGlite default.
 */
const backends: Array<[string, () => Promise<TestBackend>]> = [
  ['PostgreSQL', postgresBackend],
  ['embedded PGlite', pgliteBackend],
];

for (const [name, makeBackend] of backends) {
  describe(`README ENQCMD scenario on ${name}`, () => {
    const suite = useTestApp({ backend: makeBackend });

    it('runs every step of the README with the documented answers', async () => {
      const op = suite.app.operator;
      const tenant = await op.post('/v1/tenants', { name: 'acme', quotas: { maxFds: 8 } });
      expectStatus(tenant, 201);
      assert.equal(tenant.body.name, 'acme');
      assert.deepEqual(tenant.body.quotas, { maxFds: 8, maxHostPasids: 4096 });
      assert.match(tenant.body.token, /\S{16,}/);
      const acme = op.as(tenant.body.token);

      const host = await op.post('/v1/hosts', {
        hostId: 'host-a',
        pasidBits: 20,
        enqcmd: true,
        nestedPasidTable: false,
        devices: [
          { rid: '0000:3b:00.1', kind: 'vf', pasidBits: 20 },
          { rid: '0000:3b:00.2', kind: 'vf', pasidBits: 20 },
        ],
      });
      expectStatus(host, 201);
      assert.equal(host.body.hostId, 'host-a');
      assert.equal(host.body.devices.length, 2);

      const fd = await acme.post('/v1/fds', { hostId: 'host-a', vmId: 'vm-1' });
      expectStatus(fd, 201);
      assert.equal(fd.body.tenantId, tenant.body.tenantId);
      assert.equal(fd.body.hwidMode, null);
      assert.equal(fd.body.migratable, true);
      const fdPath = `/v1/fds/${fd.body.fdId}`;

      const mode = await acme.put(`${fdPath}/hwid-mode`, { mode: 'global' });
      expectStatus(mode, 200);
      assert.equal(mode.body.hwidMode, 'global');

      const split = await acme.put(`${fdPath}/global-min`, { globalMin: 1024 });
      expectStatus(split, 200);
      assert.equal(split.body.globalMin, 1024);

      const ioasid = await acme.post(`${fdPath}/ioasids`);
      expectStatus(ioasid, 201);
      assert.deepEqual(ioasid.body, { ioasid: 1 });

      for (const [i, rid] of ['0000:3b:00.1', '0000:3b:00.2'].entries()) {
        const attached = await acme.post(`${fdPath}/ioasids/1/attachments`, { rid, enqcmd: true });
        expectStatus(attached, 201);
        assert.deepEqual(attached.body, { vdevId: `vdev-${i + 1}`, rid, ioasid: 1, enqcmd: true });
      }

      const hwid = await acme.put(`${fdPath}/ioasids/1/hwid`, { pasid: 5 });
      expectStatus(hwid, 200);
      assert.equal(hwid.body.ioasid, 1);
      assert.equal(hwid.body.pasid, 5);
      const globalPasid: number = hwid.body.globalPasid;
      assert.ok(globalPasid >= 1024 && globalPasid < 2 ** 20, `global PASID ${globalPasid} lies in [1024, 2^20)`);

      expectStatus(await acme.put(`${fdPath}/ioasids/1/pgtable`, { gpa: '0x7f0000' }), 200);
      const kvm = await acme.put(`${fdPath}/kvm-pasid-mappings/5`, { hostPasid: globalPasid });
      expectStatus(kvm, 200);

      const read = await acme.get(`${fdPath}/ioasids/1/hwid`);
      expectStatus(read, 200);
      assert.deepEqual(read.body, { ioasid: 1, pasid: 5, hostPasid: globalPasid });

      const view = await acme.get(fdPath);
      expectStatus(view, 200);
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
      const hardware = await readUntil(() => op.get('/v1/hosts/host-a/hardware'), (r) => r.status === 200 && r.body.version === 10);
      expectStatus(hardware, 200);
      assert.equal(hardware.body.version, 10);
      assert.match(hardware.body.hash, /^[0-9a-f]{64}$/);
      for (const rid of ['0000:3b:00.1', '0000:3b:00.2']) {
        // enqcmd attachments are programmed at the global PASID only.
        const entries = hardware.body.rids[rid].pasids;
        assert.deepEqual(Object.keys(entries), [String(globalPasid)]);
        assert.equal(entries[globalPasid].origin, 'global');
        assert.equal(entries[globalPasid].fdId, fd.body.fdId);
        assert.equal(entries[globalPasid].firstStageGpa, '0x7f0000');
        assert.deepEqual(hardware.body.rids[rid].context, { table: 'host' });
      }
      assert.deepEqual(hardware.body.vms, { 'vm-1': { '5': globalPasid } });
      assert.equal(hardware.body.allocator.used, 1);

      const verify = await op.get('/v1/hosts/host-a/verify');
      expectStatus(verify, 200);
      assert.equal(verify.body.ok, true);
      assert.equal(verify.body.version, 10);
      assert.equal(verify.body.hash, hardware.body.hash);

      const events = await acme.get('/v1/events?hostId=host-a');
      expectStatus(events, 200);
      assert.deepEqual(
        events.body.events.map((e: { type: string }) => e.type),
        ['FdCreated', 'HwidModeSet', 'GlobalMinSet', 'IoasidAllocated', 'DeviceAttached', 'DeviceAttached', 'HwidSet', 'PgtableBound', 'KvmPasidMapped'],
        'the tenant sees its own events, not the operator host registration',
      );
      const all = await op.get('/v1/events?hostId=host-a');
      assert.equal(all.body.events[0].type, 'HostRegistered');
      assert.deepEqual(
        all.body.events.map((e: { version: number }) => e.version),
        [1, 2, 3, 4, 5, 6, 7, 8, 9, 10],
      );
    });
  });
}
