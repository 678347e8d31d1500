import { parseVmViewKey, type HardwareView } from '../hardware';
import { textTable } from './text-table';

export interface RenderedReplay {
  view: HardwareView;
  hostId: string;
  occurredAt?: string;
  source: string;
  startedAfter: number;
}

/**
 * The human form of a replayed hardware state: per RID its context and PASID table, per VM
 * its CPU PASID translation table, a summary and the hash.
 */
export function renderHardware({ view, hostId, occurredAt, source, startedAfter }: RenderedReplay): string[] {
  const out: string[] = [];
  const from = startedAfter > 0 ? `, from the snapshot at version ${startedAfter}` : '';
  out.push(`Host ${hostId} at version ${view.version}${occurredAt ? ` (${occurredAt})` : ''}, replayed from ${source}${from}`);
  let entries = 0;
  for (const [rid, r] of Object.entries(view.rids)) {
    const context = r.context.table === 'host' ? 'host-managed PASID table' : `guest PASID table at ${r.context.gpa}`;
    const pasids = Object.entries(r.pasids);
    entries += pasids.length;
    out.push('', `RID ${rid}  context: ${context}  (${pasids.length} PASID ${pasids.length === 1 ? 'entry' : 'entries'})`);
    if (pasids.length > 0) {
      out.push(
        ...textTable(
          ['PASID', 'FD', 'IOASID', 'ORIGIN', 'PGTT', 'FIRST-STAGE GPA', 'DOMAIN'],
          pasids.map(([p, e]) => [p, e.fdId, String(e.ioasid), e.origin, e.pgtt, e.firstStageGpa, String(e.domainId)]),
        ),
      );
    }
  }
  const vms = Object.entries(view.vms);
  let mappings = 0;
  out.push('', 'CPU PASID translation tables');
  if (vms.length === 0) out.push('  (none)');
  for (const [key, table] of vms) {
    const pairs = Object.entries(table);
    mappings += pairs.length;
    out.push(`  VM ${vmLabel(key)}`, ...textTable(['GUEST PASID', 'HOST PASID'], pairs.map(([g, h]) => [g, String(h)]), '    '));
  }
  out.push(
    '',
    `Summary: ${plural(Object.keys(view.rids).length, 'RID')}, ${plural(entries, 'PASID entry', 'PASID entries')}, ` +
      `${plural(vms.length, 'VM')} with ${plural(mappings, 'CPU PASID mapping')}; ` +
      `allocator ${view.allocator.used} used, ${view.allocator.free} free`,
    `Hash: ${view.hash}`,
  );
  return out;
}

/** A vmId two tenants use on the host is keyed `<tenantId>/<vmId>` in the view: say whose it is. */
function vmLabel(key: string): string {
  const { vmId, tenantId } = parseVmViewKey(key);
  return tenantId === undefined ? vmId : `${vmId} (tenant ${tenantId})`;
}

function plural(n: number, one: string, many = `${one}s`): string {
  return `${n} ${n === 1 ? one : many}`;
}
