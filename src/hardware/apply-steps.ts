import type { EventData } from '../model/events';
import { MAX_IOASID } from '../model/values';
import { HardwareFault } from './fault';
import type { HardwareTransaction } from './transaction';
import { emptyHwFd, type HwFd } from './types';

/** Steps shared by more than one event (a migrated fd arrives whole, so FdImported repeats them). */

export function createFd(tx: HardwareTransaction, data: { fdId: string; tenantId: string; vmId: string; domainId: number }): HwFd {
  const s = tx.s;
  if (s.fds.has(data.fdId)) throw new HardwareFault('conflict', `fd ${data.fdId} is already open`);
  const fd = emptyHwFd({
    fdId: data.fdId,
    tenantId: data.tenantId,
    vmId: data.vmId,
    domainId: data.domainId,
    slot: s.nextSlot,
    hwidMode: null,
    globalMin: null,
  });
  tx.journal.assign(s, 'nextSlot', s.nextSlot + 1);
  tx.journal.mapSet(s.fds, fd.fdId, fd);
  tx.journal.mapSet(s.fdsBySlot, fd.slot, fd);
  tx.claimVm(fd);
  return fd;
}

export function setGlobalMin(tx: HardwareTransaction, data: EventData<'GlobalMinSet'>): void {
  const fd = tx.fd(data.fdId);
  const size = tx.space().size;
  if (fd.hwidMode !== 'global') throw new HardwareFault('I5', `fd ${fd.fdId} is not in global mode`);
  if (fd.localToGlobal.size > 0) throw new HardwareFault('I5', `globalMin of fd ${fd.fdId} is fixed once a hwid exists`);
  if (!Number.isInteger(data.globalMin) || data.globalMin < 1 || data.globalMin >= size) {
    throw new HardwareFault('I5', `globalMin ${data.globalMin} is not in [1, ${size})`);
  }
  tx.journal.assign(fd, 'globalMin', data.globalMin);
}

export function setHwid(tx: HardwareTransaction, data: EventData<'HwidSet'>): void {
  const fd = tx.fd(data.fdId);
  const hwid = tx.ioasid(fd, data.ioasid);
  const size = tx.space().size;
  if (hwid !== 0) throw new HardwareFault('conflict', `ioasid ${data.ioasid} already has hwid ${hwid}`);
  if (!Number.isInteger(data.pasid) || data.pasid < 1 || data.pasid >= size) {
    throw new HardwareFault('I1', `user PASID ${data.pasid} is outside [1, ${size})`);
  }
  tx.setIoasid(fd, data.ioasid, data.pasid, fd.ioasids.hostPasidOf(data.ioasid)!);
  if (fd.hwidMode === 'global') {
    if (data.globalPasid === undefined || fd.globalMin === null) throw new HardwareFault('I5', 'a global-mode hwid needs globalMin and a global PASID');
    if (!(data.pasid < fd.globalMin && fd.globalMin <= data.globalPasid)) {
      throw new HardwareFault('I5', `local ${data.pasid} < globalMin ${fd.globalMin} <= global ${data.globalPasid} does not hold`);
    }
    tx.takePasid(fd, data.ioasid, data.globalPasid, 'global');
  } else if (data.globalPasid !== undefined) {
    throw new HardwareFault('I5', `fd ${fd.fdId} is not in global mode`);
  }
  if (data.realPasid !== undefined) {
    if (fd.hwidMode !== 'local') throw new HardwareFault('I5', 'a real PASID belongs to local mode');
    tx.takePasid(fd, data.ioasid, data.realPasid, 'real');
  }
}

/** ioasid ids are positive 31-bit integers (the PASID owner table stores them in an Int32Array). */
export function checkIoasidId(ioasid: number): void {
  if (!Number.isInteger(ioasid) || ioasid < 1 || ioasid > MAX_IOASID) throw new HardwareFault('malformed-event', `ioasid ${ioasid} is not in [1, ${MAX_IOASID}]`);
}
