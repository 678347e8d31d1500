import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { redactForTenant, type EventEnvelope, type HostEvent } from '../../src/model';
import { exportFd } from '../../src/domain';
import { SIOV, TestHost, VF1 } from '../support/domain-host';
import { numbersIn } from '../support/json-numbers';

const B_VF = { rid: '0000:af:00.1', kind: 'vf' as const, pasidBits: 20 };
const B_SIOV = { rid: '0000:d8:00.0', kind: 'siov' as const, pasidBits: 20 };

function envelope(event: HostEvent): EventEnvelope {
  return { eventId: 'e', hostId: 'h', version: 1, type: event.type, schemaVersion: 1, occurredAt: '', actor: 'operator', commandId: 'c', correlationId: 'c', data: event.data, prevHash: '', hash: '' } as EventEnvelope;
}


function busy(h: TestHost, rid: string): void {
  h.run({ type: 'CreateFd', fdId: 'fd-busy', tenantId: 't9', vmId: 'vm-busy' });
  h.run({ type: 'SetHwidMode', fdId: 'fd-busy', mode: 'local' });
  for (let ioasid = 1; ioasid <= 5; ioasid++) {
    h.run({ type: 'AllocIoasid', fdId: 'fd-busy' });
    h.run({ type: 'AttachDevice', fdId: 'fd-busy', ioasid, rid, enqcmd: false });
    h.run({ type: 'SetHwid', fdId: 'fd-busy', ioasid, pasid: 9 });
  }
}

describe('redactForTenant', () => {
  it('takes every real siov PASID out of every event of a local-mode life, import included, and leaves the stored event alone', () => {
    const a = new TestHost().register({ hostId: 'host-a', devices: [VF1, SIOV] });
    // Another VM holds real PASIDs 1-5 on each host, so that the tenant's are numbers no id shares.
    busy(a, SIOV.rid);
    const startA = a.log.length;
    a.run({ type: 'CreateFd', fdId: 'fd-a', tenantId: 't1', vmId: 'vm-1' });
    const fd = a.fd('fd-a');
    fd.run({ type: 'SetHwidMode', mode: 'local' });
    fd.run({ type: 'AllocIoasid' });
    fd.run({ type: 'AttachDevice', ioasid: 1, rid: VF1.rid, enqcmd: false });
    fd.run({ type: 'SetHwid', ioasid: 1, pasid: 77 });
    fd.run({ type: 'BindPgtable', ioasid: 1, gpa: '0x5000' });
    // Attached after the hwid and the bind: the attach itself allocates and programs the real PASID.
    const attached = fd.one({ type: 'AttachDevice', ioasid: 1, rid: SIOV.rid, enqcmd: false }, 'DeviceAttached');
    assert.equal(attached.data.realPasid, 6);
    const b = new TestHost().register({ hostId: 'host-b', devices: [B_VF, B_SIOV] });
    busy(b, B_SIOV.rid);
    const before = b.log.length;
    const imported = b.one(
      { type: 'ImportFd', fdId: 'fd-b', tenantId: 't1', migrationId: 'm', sourceHostId: 'host-a', sourceFdId: 'fd-a', image: exportFd(a.state, 'fd-a'), deviceMap: { [VF1.rid]: B_VF.rid, [SIOV.rid]: B_SIOV.rid } },
      'FdImported',
    );
    assert.equal(imported.data.ioasids[0]!.realPasid, 6);
    b.run({ type: 'UnbindPgtable', fdId: 'fd-b', ioasid: 1 });
    b.run({ type: 'CloseFd', fdId: 'fd-b' });

    const siov = new Set([SIOV.rid, B_SIOV.rid]);
    for (const log of [a.log.slice(startA), b.log.slice(before)]) {
      for (const event of log) {
        const stored = JSON.stringify(event);
        const copy = redactForTenant(envelope(event), (rid) => siov.has(rid));
        assert.equal(JSON.stringify(event), stored, 'the stored event is not changed');
        assert.ok(!numbersIn(copy.data).includes(6), `${event.type}: ${JSON.stringify(copy.data)}`);
      }
    }
    const copy = redactForTenant(envelope(imported), (rid) => siov.has(rid)).data as typeof imported.data;
    assert.deepEqual(copy.allocatedPasids, []);
    assert.deepEqual(copy.programmed.map((e) => [e.rid, e.pasid]), [[B_VF.rid, 77], [B_SIOV.rid, undefined]]);
    assert.equal(copy.ioasids[0]!.realPasid, undefined);
  });
});
