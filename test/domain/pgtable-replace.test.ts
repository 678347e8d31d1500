import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { HostEvent } from '../../src/model';
import { fdView } from '../../src/domain';
import { HardwareFault } from '../../src/hardware';
import { SIOV, TestHost, VF1, VF2 } from '../support/domain-host';

/** A global-mode fd: ioasid 1 with a vf (local + global entries), an enqcmd vf (global only) and a siov (global), bound at 0x1000. */
function boundFd(): TestHost {
  const h = new TestHost().register({ hostId: 'h', enqcmd: true, devices: [VF1, VF2, SIOV] });
  h.run({ type: 'CreateFd', fdId: 'fd-1', tenantId: 't1', vmId: 'vm-1' });
  const fd = h.fd('fd-1');
  fd.run({ type: 'SetHwidMode', mode: 'global' });
  fd.run({ type: 'SetGlobalMin', globalMin: 32 });
  fd.run({ type: 'AllocIoasid' });
  fd.run({ type: 'AttachDevice', ioasid: 1, rid: VF1.rid, enqcmd: false });
  fd.run({ type: 'AttachDevice', ioasid: 1, rid: VF2.rid, enqcmd: true });
  fd.run({ type: 'AttachDevice', ioasid: 1, rid: SIOV.rid, enqcmd: false });
  fd.run({ type: 'SetHwid', ioasid: 1, pasid: 3 });
  fd.run({ type: 'BindPgtable', ioasid: 1, gpa: '0x1000' });
  return h;
}

function firstStages(h: TestHost): string[] {
  return Object.values(h.hw().rids).flatMap((r) => Object.values(r.pasids).map((e) => e.firstStageGpa));
}

describe('atomic page-table replace', () => {
  it('repoints every entry of the ioasid in one event; the same gpa again is a no-op', () => {
    const h = boundFd();
    assert.deepEqual(firstStages(h), ['0x1000', '0x1000', '0x1000', '0x1000']);
    const entriesBefore = JSON.stringify(Object.fromEntries(Object.entries(h.hw().rids).map(([rid, r]) => [rid, Object.keys(r.pasids)])));
    const replaced = h.fd('fd-1').one({ type: 'BindPgtable', ioasid: 1, gpa: '0x2000' }, 'PgtableReplaced');
    assert.deepEqual(replaced.data, {
      fdId: 'fd-1', ioasid: 1, gpa: '0x2000', previousGpa: '0x1000',
      repointed: [{ rid: VF1.rid, pasid: 3 }, { rid: VF1.rid, pasid: 32 }, { rid: VF2.rid, pasid: 32 }, { rid: SIOV.rid, pasid: 32 }],
    });
    assert.deepEqual(firstStages(h), ['0x2000', '0x2000', '0x2000', '0x2000']);
    assert.equal(JSON.stringify(Object.fromEntries(Object.entries(h.hw().rids).map(([rid, r]) => [rid, Object.keys(r.pasids)]))), entriesBefore, 'the same entries, none added or cleared');
    assert.equal(fdView(h.state, 'fd-1')!.ioasids[0]!.pgtableGpa, '0x2000');

    const again = h.fd('fd-1').run({ type: 'BindPgtable', ioasid: 1, gpa: '0x2000' });
    assert.deepEqual(again.events, [], 'the same gpa decides nothing');
    assert.equal((again.result as { pgtableGpa: string }).pgtableGpa, '0x2000', 'and answers the ioasid as it is');
  });

  it('on a refusal the old binding stays', () => {
    const h = boundFd();
    const fd = h.fd('fd-1');
    fd.refuse({ type: 'BindPgtable', ioasid: 1, gpa: '0x2001' }, 'INVALID_RANGE');
    h.refuse({ type: 'BindPgtable', fdId: 'fd-1', actorTenantId: 't2', ioasid: 1, gpa: '0x2000' }, 'NOT_FOUND');
    fd.run({ type: 'StartMigration', migrationId: 'm', targetHostId: 'other' });
    fd.refuse({ type: 'BindPgtable', ioasid: 1, gpa: '0x2000' }, 'FD_MIGRATING');
    assert.deepEqual(firstStages(h), ['0x1000', '0x1000', '0x1000', '0x1000']);
    assert.equal(fdView(h.state, 'fd-1')!.ioasids[0]!.pgtableGpa, '0x1000');
  });

  it('the hardware refuses on its own a replace that misses an entry or names another ioasid’s', () => {
    const h = boundFd();
    const before = h.state.hw.hash();
    const partial: HostEvent = { type: 'PgtableReplaced', data: { fdId: 'fd-1', ioasid: 1, gpa: '0x2000', previousGpa: '0x1000', repointed: [{ rid: VF1.rid, pasid: 3 }] } };
    assert.throws(() => h.state.hw.apply(partial), (e) => e instanceof HardwareFault && e.invariant === 'I9');
    const foreign: HostEvent = { type: 'PgtableReplaced', data: { fdId: 'fd-1', ioasid: 1, gpa: '0x2000', previousGpa: '0x1000', repointed: [{ rid: VF1.rid, pasid: 9 }] } };
    assert.throws(() => h.state.hw.apply(foreign), (e) => e instanceof HardwareFault && e.invariant === 'I2');
    assert.equal(h.state.hw.hash(), before, 'a faulting replace changes nothing');
  });
});
