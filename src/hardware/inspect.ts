import type { PasidEntry } from '../model/values';
import type { EntryView, HardwareView } from '../model/views';
import type { HwState } from './types';
import { kvmTablesByViewKey } from './vm-key';

function entryView(e: PasidEntry): EntryView {
  return { fdId: e.fdId, ioasid: e.ioasid, origin: e.origin, pgtt: 'nested', firstStageGpa: e.firstStageGpa, domainId: e.domainId };
}

export function hardwareView(s: HwState, hash: string): HardwareView {
  const rids: HardwareView['rids'] = {};
  for (const [rid, r] of s.rids) {
    const pasids: Record<string, EntryView> = {};
    for (const p of [...r.pasids.keys()].sort((a, b) => a - b)) pasids[p] = entryView(r.pasids.get(p)!);
    rids[rid] = { context: r.context.table === 'host' ? { table: 'host' } : { table: 'guest', gpa: r.context.gpa }, pasids };
  }
  const reserved = s.host?.reservedPasids ?? [];
  const vms: HardwareView['vms'] = {};
  for (const [key, table] of kvmTablesByViewKey(s)) {
    vms[key] = {};
    for (const g of [...table.keys()].sort((a, b) => a - b)) vms[key][g] = table.get(g)!;
  }
  return {
    hostId: s.host?.hostId ?? null,
    version: s.version,
    hash,
    rids,
    vms,
    allocator: {
      used: s.space?.allocator.used ?? 0,
      free: (s.space?.allocator.free ?? 0) - reserved.reduce((n, r) => n + r.count, 0),
      reserved: reserved.map((r) => ({ ...r })),
    },
  };
}
