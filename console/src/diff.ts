import type { EntryView, HardwareView } from './types';

/** How an entry of the version shown compares with now. */
export type EntryDiff = 'same' | 'changed' | 'removed';

export interface HardwareDiff {
  /** By `${rid}/${pasid}` of the version shown. */
  entries: Map<string, EntryDiff>;
  /** Entries that exist now and not at the version shown, by RID. */
  added: Map<string, Array<[number, EntryView]>>;
  /** VM translations by `${vmId}/${guestPasid}` of the version shown. */
  vms: Map<string, EntryDiff>;
  addedVms: Array<[string, number, number]>;
}

const sameEntry = (a: EntryView, b: EntryView) =>
  a.fdId === b.fdId && a.ioasid === b.ioasid && a.origin === b.origin && a.pgtt === b.pgtt && a.firstStageGpa === b.firstStageGpa && a.domainId === b.domainId;

export function diffHardware(shown: HardwareView, now: HardwareView): HardwareDiff {
  const entries = new Map<string, EntryDiff>();
  const added = new Map<string, Array<[number, EntryView]>>();
  for (const [rid, view] of Object.entries(shown.rids)) {
    for (const [pasid, entry] of Object.entries(view.pasids)) {
      const later = now.rids[rid]?.pasids[pasid];
      entries.set(`${rid}/${pasid}`, !later ? 'removed' : sameEntry(entry, later) ? 'same' : 'changed');
    }
  }
  for (const [rid, view] of Object.entries(now.rids)) {
    const gained = Object.entries(view.pasids).filter(([pasid]) => !shown.rids[rid]?.pasids[pasid]);
    if (gained.length) added.set(rid, gained.map(([p, e]) => [Number(p), e]));
  }
  const vms = new Map<string, EntryDiff>();
  for (const [vm, table] of Object.entries(shown.vms)) {
    for (const [guest, host] of Object.entries(table)) {
      const later = now.vms[vm]?.[guest];
      vms.set(`${vm}/${guest}`, later === undefined ? 'removed' : later === host ? 'same' : 'changed');
    }
  }
  const addedVms: Array<[string, number, number]> = [];
  for (const [vm, table] of Object.entries(now.vms)) {
    for (const [guest, host] of Object.entries(table)) if (shown.vms[vm]?.[guest] === undefined) addedVms.push([vm, Number(guest), host]);
  }
  return { entries, added, vms, addedVms };
}
