import type { EventEnvelope } from './envelope';
import type { HostEvent } from './events';
import type { EntryRef, ProgrammedEntry, Released, Rid } from './values';

/**
 * What a tenant reads of an event (API.md "Events", tenant copies): the envelope without the
 * host-chosen real `siov` PASIDs, which tell how busy a shared device is and which only an
 * exposure (`GET .../hwid`, making the fd non-migratable) may hand out; `HwidExposed` is that
 * exposure and keeps its PASID. `isSiov` says which RIDs of the event's host are siov: their
 * entries in local mode sit at real PASIDs. `released.pasids` does not say which PASIDs were
 * real, so a tenant's copy omits it. The operator, Kafka and replay keep the full event; the
 * hash covers the full event (a tenant's copy does not verify against it).
 * Every tenant-facing path that hands out envelopes goes through this one function.
 */
export function redactForTenant(envelope: EventEnvelope, isSiov: (rid: Rid) => boolean): EventEnvelope {
  const data = redactData(envelope, isSiov);
  return data === envelope.data ? envelope : ({ ...envelope, data } as EventEnvelope);
}

function redactData(envelope: EventEnvelope, isSiov: (rid: Rid) => boolean): unknown {
  const e = { type: envelope.type, data: envelope.data } as HostEvent;
  switch (e.type) {
    case 'HwidSet':
      return withoutRealPasid(e.data);
    case 'DeviceAttached':
      return { ...withoutRealPasid(e.data), programmed: entries(e.data.programmed) };
    case 'PgtableBound':
      return { ...e.data, programmed: entries(e.data.programmed) };
    case 'PgtableUnbound':
      return { ...e.data, cleared: refs(e.data.cleared, isSiov) };
    case 'PgtableReplaced':
      return { ...e.data, repointed: refs(e.data.repointed, isSiov) };
    case 'FdClosed':
    case 'FdMigratedOut':
    case 'IoasidFreed':
    case 'DeviceDetached':
      return { ...e.data, released: released(e.data.released, isSiov) };
    case 'FdImported': {
      const real = new Set(e.data.ioasids.flatMap((io) => (io.realPasid !== undefined ? [io.realPasid] : [])));
      return {
        ...e.data,
        ioasids: e.data.ioasids.map(withoutRealPasid),
        programmed: entries(e.data.programmed),
        allocatedPasids: e.data.allocatedPasids.filter((p) => !real.has(p)),
      };
    }
    case 'HostRegistered':
    case 'DeviceAdded':
    case 'DeviceRemoved':
    case 'HostCordoned':
    case 'HostUncordoned':
    case 'HostDecommissioned':
    case 'FdCreated':
    case 'HwidModeSet':
    case 'GlobalMinSet':
    case 'IoasidAllocated':
    case 'PasidTableSet':
    case 'HwidExposed':
    case 'KvmPasidMapped':
    case 'KvmPasidUnmapped':
    case 'MigrationStarted':
    case 'MigrationAborted':
    case 'MigrationImportBarred':
      return envelope.data;
    default: {
      // A type added to HostEvent without a case here does not compile; an unknown stored type is shown as it is.
      const _: never = e;
      return envelope.data;
    }
  }
}

function withoutRealPasid<T extends { realPasid?: number }>(data: T): Omit<T, 'realPasid'> {
  if (data.realPasid === undefined) return data;
  const { realPasid: _real, ...rest } = data;
  return rest;
}

/** A programmed entry at a real PASID keeps where and what, not the PASID. */
function entries(programmed: ProgrammedEntry[]): Array<ProgrammedEntry | Omit<ProgrammedEntry, 'pasid'>> {
  return programmed.map((entry) => {
    if (entry.origin !== 'real') return entry;
    const { pasid: _pasid, ...rest } = entry;
    return rest;
  });
}

/** An entry reference on a siov RID may be at a real PASID: the reference keeps its RID only. */
function refs(list: EntryRef[], isSiov: (rid: Rid) => boolean): Array<EntryRef | Omit<EntryRef, 'pasid'>> {
  return list.map((ref) => (isSiov(ref.rid) ? { rid: ref.rid } : ref));
}

function released(r: Released, isSiov: (rid: Rid) => boolean): Omit<Released, 'pasids' | 'entries'> & { entries: Array<EntryRef | Omit<EntryRef, 'pasid'>> } {
  const { pasids: _pasids, ...rest } = r;
  return { ...rest, entries: refs(r.entries, isSiov) };
}
