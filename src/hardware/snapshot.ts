import type { HostSpec, HwidMode, PasidOrigin, Rid, RidContext } from '../model/values';
import { HardwareFault } from './fault';
import { ioasidEntry } from './fd-ioasids';
import { PasidSpace } from './pasid-space';
import { emptyHwFd, type HwFd, type HwFdIdentity, type HwRid, type HwState } from './types';

/**
 * A JSON-able image of the hardware. Flat number arrays keep a million PASIDs compact;
 * the counters (entries, held PASIDs, contexts, mdevs per fd) are not stored but recounted
 * on load, so a snapshot cannot carry a counter that disagrees with its data.
 * Format 3 names an fd's mode `hwidMode`, as everywhere else; format 2 (`mode`) and format 1
 * (also `vms` by vmId, written when vmIds were host-wide) still load.
 */
export interface HardwareSnapshot {
  format: 3;
  version: number;
  host: HostSpec | null;
  nextSlot: number;
  fds: Array<
    HwFdIdentity & {
      /** ioasid, pasid, hostPasid repeated (ascending by ioasid; a snapshot in any order loads alike). */
      ioasids: number[];
      /** [ioasid, rid, attachments] */
      attached: Array<[number, Rid, number]>;
    }
  >;
  /** pasid, slot, ioasid, origin (0 global, 1 real) repeated. */
  pasids: number[];
  rids: Array<{
    rid: Rid;
    context: RidContext;
    /** [pasid, fdId, ioasid, origin, firstStageGpa, domainId] */
    entries: Array<[number, string, number, PasidOrigin, string, number]>;
    vfOwner: { fdId: string; attachments: number } | null;
    mdevs: Array<[string, string, number]>;
  }>;
  /** [fdId, [guestPasid, hostPasid] pairs]: the CPU PASID table of the fd's VM. */
  kvm: Array<[string, Array<[number, number]>]>;
}

/** The format written by release 0.1.0: the fd's hwid mode was stored as `mode`. */
export type HardwareSnapshotV2 = Omit<HardwareSnapshot, 'format' | 'fds'> & {
  format: 2;
  fds: Array<Omit<HardwareSnapshot['fds'][number], 'hwidMode'> & { mode: HwidMode | null }>;
};

/** The format written before VM ids were scoped per tenant: one VM per vmId on a host. */
export type HardwareSnapshotV1 = Omit<HardwareSnapshotV2, 'format' | 'kvm'> & {
  format: 1;
  /** [vmId, pairs]: unique per host then, so the vmId names the fd. */
  vms: Array<[string, Array<[number, number]>]>;
};

/** Every format this release loads. */
export type LoadableHardwareSnapshot = HardwareSnapshot | HardwareSnapshotV2 | HardwareSnapshotV1;

export function emptyHwState(): HwState {
  return {
    host: null,
    version: 0,
    space: null,
    rids: new Map(),
    mdevRid: new Map(),
    fds: new Map(),
    fdsBySlot: new Map(),
    nextSlot: 1,
    fdsOfVmId: new Map(),
    kvm: new Map(),
    kvmByHostPasid: new Map(),
  };
}

export function toSnapshot(s: HwState): HardwareSnapshot {
  const pasids: number[] = [];
  if (s.space) {
    s.space.forEachOwned((p, slot, ioasid, origin) => pasids.push(p, slot, ioasid, origin === 'global' ? 0 : 1));
  }
  return {
    format: 3,
    version: s.version,
    host: s.host,
    nextSlot: s.nextSlot,
    fds: [...s.fds.values()].map((fd) => ({
      fdId: fd.fdId,
      tenantId: fd.tenantId,
      vmId: fd.vmId,
      domainId: fd.domainId,
      slot: fd.slot,
      hwidMode: fd.hwidMode,
      globalMin: fd.globalMin,
      ioasids: ioasidTriples(fd),
      attached: [...fd.attached].flatMap(([ioasid, perRid]) => [...perRid].map(([rid, n]): [number, Rid, number] => [ioasid, rid, n])),
    })),
    pasids,
    rids: [...s.rids].map(([rid, r]) => ({
      rid,
      context: r.context,
      entries: [...r.pasids].map(([p, e]) => [p, e.fdId, e.ioasid, e.origin, e.firstStageGpa, e.domainId]),
      vfOwner: r.vfOwner,
      mdevs: [...r.mdevs].map(([id, m]) => [id, m.fdId, m.ioasid]),
    })),
    kvm: [...s.kvm].map(([fdId, table]) => [fdId, [...table]]),
  };
}

export function fromSnapshot(snap: LoadableHardwareSnapshot): HwState {
  if (snap.format !== 1 && snap.format !== 2 && snap.format !== 3) throw new HardwareFault('malformed-snapshot', `unknown hardware snapshot format ${String((snap as { format?: unknown }).format)}`);
  const s = emptyHwState();
  s.version = snap.version;
  s.host = snap.host;
  s.nextSlot = snap.nextSlot;
  if (snap.host) s.space = new PasidSpace(snap.host.pasidBits);
  for (const f of snap.fds) {
    const fd = emptyHwFd({
      fdId: f.fdId,
      tenantId: f.tenantId,
      vmId: f.vmId,
      domainId: f.domainId,
      slot: f.slot,
      hwidMode: 'hwidMode' in f ? f.hwidMode : f.mode,
      globalMin: f.globalMin,
    });
    for (let i = 0; i < f.ioasids.length; i += 3) fd.ioasids.set(f.ioasids[i]!, ioasidEntry(f.ioasids[i + 1]!, f.ioasids[i + 2]!));
    for (const [ioasid, rid, count] of f.attached) addPair(fd.attached, ioasid, rid, count);
    s.fds.set(fd.fdId, fd);
    s.fdsBySlot.set(fd.slot, fd);
    let tenants = s.fdsOfVmId.get(fd.vmId);
    if (!tenants) s.fdsOfVmId.set(fd.vmId, (tenants = new Map()));
    tenants.set(fd.tenantId, fd.fdId);
  }
  for (let i = 0; i < snap.pasids.length; i += 4) {
    const [pasid, slot, ioasid, origin] = [snap.pasids[i]!, snap.pasids[i + 1]!, snap.pasids[i + 2]!, snap.pasids[i + 3]!];
    const fd = s.fdsBySlot.get(slot)!;
    s.space!.take(pasid, { slot, ioasid, origin: origin === 0 ? 'global' : 'real' });
    fd.heldPasids++;
    if (origin === 0) fd.localToGlobal.set(fd.ioasids.pasidOf(ioasid)!, pasid);
  }
  const devices = new Map((snap.host?.devices ?? []).map((d) => [d.rid, d]));
  for (const r of snap.rids) {
    const rid: HwRid = {
      spec: { ...devices.get(r.rid)! },
      context: r.context,
      pasids: new Map(),
      vfOwner: r.vfOwner,
      mdevs: new Map(r.mdevs.map(([id, fdId, ioasid]) => [id, { fdId, ioasid }])),
    };
    for (const [pasid, fdId, ioasid, origin, firstStageGpa, domainId] of r.entries) {
      rid.pasids.set(pasid, { fdId, ioasid, origin, firstStageGpa, domainId });
      const fd = s.fds.get(fdId)!;
      fd.entries++;
      addPair(fd.entriesOn, ioasid, r.rid, 1);
    }
    if (r.context.table === 'guest') s.fds.get(r.context.fdId)!.guestContexts++;
    for (const [id, fdId] of r.mdevs) {
      s.mdevRid.set(id, r.rid);
      s.fds.get(fdId)!.mdevs++;
    }
    s.rids.set(r.rid, rid);
  }
  const tables = snap.format !== 1 ? snap.kvm : snap.vms.map(([vmId, pairs]): [string, Array<[number, number]>] => [onlyFdOf(s, vmId), pairs]);
  for (const [fdId, pairs] of tables) {
    s.kvm.set(fdId, new Map(pairs));
    s.kvmByHostPasid.set(fdId, new Map(pairs.map(([g, h]) => [h, g])));
  }
  return s;
}

/** Ascending by id (releases before this one wrote insertion order: it loads alike). */
function ioasidTriples(fd: HwFd): number[] {
  const triples: number[] = [];
  fd.ioasids.forEach((id, pasid, hostPasid) => triples.push(id, pasid, hostPasid));
  return triples;
}

/** Format 1: the one fd of a vmId (vmIds were host-wide when it was written). */
function onlyFdOf(s: HwState, vmId: string): string {
  const fds = [...(s.fdsOfVmId.get(vmId)?.values() ?? [])];
  if (fds.length !== 1) throw new HardwareFault('malformed-snapshot', `format 1 snapshot: VM ${vmId} has ${fds.length} fds, not one`);
  return fds[0]!;
}

function addPair(counts: Map<number, Map<Rid, number>>, ioasid: number, rid: Rid, n: number): void {
  let perRid = counts.get(ioasid);
  if (!perRid) {
    perRid = new Map();
    counts.set(ioasid, perRid);
  }
  perRid.set(rid, (perRid.get(rid) ?? 0) + n);
}
