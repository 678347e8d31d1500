import type { EntryRef, Released, Rid } from '../../model/values';
import type { FdState, HostState } from '../state';
import type { IoasidState } from '../ioasid-table';

export function emptyReleased(): Released {
  return { pasids: [], entries: [], contexts: [], kvmGuestPasids: [], mdevs: [] };
}

/** The entries the hardware holds for this ioasid, on the given RIDs (default: every attached RID). */
export function entriesOf(state: HostState, fd: FdState, io: IoasidState, rids?: Rid[]): EntryRef[] {
  const out: EntryRef[] = [];
  // A user PASID may equal the real one in value: each (rid, pasid) holds one entry at most.
  const candidates = [...new Set([io.pasid, io.globalPasid, io.realPasid])].filter((p): p is number => p !== undefined);
  for (const rid of rids ?? uniqueRids(io)) {
    for (const pasid of candidates) {
      const entry = state.hw.entryAt(rid, pasid);
      if (entry && entry.fdId === fd.fdId && entry.ioasid === io.ioasid) out.push({ rid, pasid });
    }
  }
  return out;
}

/** RIDs whose context points at this ioasid's guest PASID table. */
export function guestContextsOf(state: HostState, fd: FdState, io: IoasidState, rids?: Rid[]): Rid[] {
  return (rids ?? uniqueRids(io)).filter((rid) => {
    const ctx = state.hw.contextOf(rid);
    return ctx?.table === 'guest' && ctx.fdId === fd.fdId && ctx.ioasid === io.ioasid;
  });
}

/** Everything an ioasid holds: what freeing it (after its devices are gone) or closing its fd releases. */
export function releaseIoasid(state: HostState, fd: FdState, io: IoasidState, into: Released = emptyReleased()): Released {
  if (io.globalPasid !== undefined && io.pasid !== undefined && state.hw.kvmMappingsOf(fd.fdId).get(io.pasid) === io.globalPasid) {
    into.kvmGuestPasids.push(io.pasid);
  }
  into.entries.push(...entriesOf(state, fd, io));
  into.contexts.push(...guestContextsOf(state, fd, io));
  for (const a of io.attachments) if (a.mdevId !== undefined) into.mdevs.push(a.mdevId);
  if (io.globalPasid !== undefined) into.pasids.push(io.globalPasid);
  if (io.realPasid !== undefined) into.pasids.push(io.realPasid);
  return into;
}

/** Everything of the fd (close, migrated out): I9 demands nothing is left. */
export function releaseFd(state: HostState, fd: FdState): Released {
  const released = emptyReleased();
  for (const io of [...fd.ioasids.values()].sort((a, b) => a.ioasid - b.ioasid)) releaseIoasid(state, fd, io, released);
  return released;
}

function uniqueRids(io: IoasidState): Rid[] {
  return [...new Set(io.attachments.map((a) => a.rid))];
}
