import type { HostHardware } from '../../src/hardware';
import type { HwState } from '../../src/hardware/types';

/** White-box reads of the emulated hardware for tests. */
export function stateOf(hw: HostHardware): HwState {
  return (hw as unknown as { s: HwState }).s;
}

/** The hardware's running counters and indexes, sorted, read from its internals. */
export function countersOf(hw: HostHardware): unknown {
  const s = stateOf(hw);
  const pairs = (counts: Map<number, Map<string, number>>) =>
    [...counts].flatMap(([io, perRid]) => [...perRid].map(([rid, n]) => `${io}|${rid}=${n}`)).sort();
  return [...s.fds.values()]
    .map((fd) => ({
      fdId: fd.fdId,
      held: fd.heldPasids,
      entries: fd.entries,
      guestContexts: fd.guestContexts,
      mdevs: fd.mdevs,
      localToGlobal: [...fd.localToGlobal.entries()].sort((a, b) => a[0] - b[0]),
      attached: pairs(fd.attached),
      entriesOn: pairs(fd.entriesOn),
    }))
    .sort((a, b) => (a.fdId < b.fdId ? -1 : 1));
}
