import type { EventData } from '../model/events';
import { checkIoasidId, createFd, setGlobalMin, setHwid } from './apply-steps';
import { HardwareFault } from './fault';
import { ioasidEntry } from './fd-ioasids';
import type { HardwareTransaction } from './transaction';

/** A migrated fd arrives whole: created, attached, its PASIDs taken and programmed, its KVM mappings set, in one event. */
export function importFd(tx: HardwareTransaction, data: EventData<'FdImported'>): void {
  const fd = createFd(tx, data);
  tx.journal.assign(fd, 'hwidMode', data.hwidMode);
  if (data.globalMin !== null) {
    if (data.hwidMode !== 'global') throw new HardwareFault('I5', 'globalMin without global mode');
    setGlobalMin(tx, { fdId: fd.fdId, globalMin: data.globalMin });
  }
  const taken: number[] = [];
  for (const io of data.ioasids) {
    checkIoasidId(io.ioasid);
    if (fd.ioasids.has(io.ioasid)) throw new HardwareFault('malformed-event', `ioasid ${io.ioasid} imported twice`);
    tx.journal.mapInsert(fd.ioasids, io.ioasid, ioasidEntry(0, 0));
    for (const a of io.attachments) tx.attach(fd, io.ioasid, a.rid, a.enqcmd, a.mdevId);
    if (io.pasid !== undefined) {
      setHwid(tx, { fdId: fd.fdId, ioasid: io.ioasid, pasid: io.pasid, globalPasid: io.globalPasid, realPasid: io.realPasid });
    } else if (io.globalPasid !== undefined || io.realPasid !== undefined) {
      throw new HardwareFault('malformed-event', `ioasid ${io.ioasid} holds a host PASID without a hwid`);
    }
    if (io.globalPasid !== undefined) taken.push(io.globalPasid);
    if (io.realPasid !== undefined) taken.push(io.realPasid);
  }
  const listed = [...data.allocatedPasids].sort((a, b) => a - b);
  taken.sort((a, b) => a - b);
  if (listed.length !== taken.length || listed.some((p, i) => p !== taken[i])) {
    throw new HardwareFault('I1', `allocatedPasids [${listed.join(',')}] differ from the PASIDs the ioasids hold [${taken.join(',')}]`);
  }
  for (const entry of data.programmed) tx.programEntry(fd, entry);
  for (const ctx of data.guestContexts) {
    const io = data.ioasids.find((i) => i.pasidTableGpa === ctx.gpa && i.attachments.some((a) => a.rid === ctx.rid));
    if (!io) throw new HardwareFault('malformed-event', `guest context of ${ctx.rid} names no imported PASID table`);
    tx.setGuestContext(fd, io.ioasid, ctx.rid, ctx.gpa);
  }
  for (const m of data.kvmMappings) tx.kvmMap(fd, m.guestPasid, m.hostPasid);
}
