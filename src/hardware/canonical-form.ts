import { createHash } from 'node:crypto';
import type { HwState } from './types';
import { kvmTablesByViewKey } from './vm-key';

/**
 * The canonical form of the whole hardware state, written straight into SHA-256 in blocks.
 * It is JSON with a fixed layout: every collection is a list sorted by its key (strings in
 * default order, numbers ascending) and every record a tuple in fixed field order, so the
 * bytes depend only on the state, never on Map insertion order or on the path that led
 * there. Fd slots (internal numbering) never appear: owners are named by fdId.
 * Covered: host spec, RID contexts, PASID entries, mdevs and vf owners, allocated PASIDs
 * with their owners, the fds' hardware records and the VMs' CPU PASID tables (named as the
 * view names them, vm-key.ts: by vmId unless two tenants share it here). The version
 * is deliberately left out: it is reported beside the hash.
 */
export function hardwareHash(s: HwState): string {
  const hash = createHash('sha256');
  let buffer = '';
  const out = (text: string) => {
    buffer += text;
    if (buffer.length >= 1 << 16) {
      hash.update(buffer);
      buffer = '';
    }
  };
  writeState(s, out);
  hash.update(buffer);
  return hash.digest('hex');
}

/** The canonical text itself (tests compare it; the hash streams it). */
export function canonicalText(s: HwState): string {
  let text = '';
  writeState(s, (chunk) => (text += chunk));
  return text;
}

const q = JSON.stringify;

function sortedNumbers(keys: Iterable<number>): Float64Array {
  return Float64Array.from(keys).sort();
}

function writeState(s: HwState, out: (text: string) => void): void {
  const host = s.host;
  out('{"host":');
  // Reserved ranges only when there are some, so that the hash of a host without them is what it always was.
  const reserved = host?.reservedPasids?.length ? [host.reservedPasids.map((r) => [r.from, r.count])] : [];
  out(host ? q([host.hostId, host.pasidBits, host.enqcmd, host.nestedPasidTable, host.devices.map((d) => [d.rid, d.kind, d.pasidBits]), ...reserved]) : 'null');

  out(',"rids":[');
  [...s.rids.keys()].sort().forEach((ridId, i) => {
    const r = s.rids.get(ridId)!;
    const ctx = r.context.table === 'host' ? '["host"]' : q(['guest', r.context.gpa, r.context.fdId, r.context.ioasid]);
    out(`${i ? ',' : ''}[${q(ridId)},${ctx},${r.vfOwner ? q([r.vfOwner.fdId, r.vfOwner.attachments]) : 'null'},[`);
    [...r.mdevs.keys()].sort().forEach((id, j) => {
      const m = r.mdevs.get(id)!;
      out(`${j ? ',' : ''}[${q(id)},${q(m.fdId)},${m.ioasid}]`);
    });
    out('],[');
    sortedNumbers(r.pasids.keys()).forEach((pasid, j) => {
      const e = r.pasids.get(pasid)!;
      out(`${j ? ',' : ''}[${pasid},${q(e.fdId)},${e.ioasid},"${e.origin}",${q(e.firstStageGpa)},${e.domainId}]`);
    });
    out(']]');
  });

  out('],"fds":[');
  [...s.fds.keys()].sort().forEach((fdId, i) => {
    const fd = s.fds.get(fdId)!;
    out(`${i ? ',' : ''}[${q(fdId)},${q(fd.tenantId)},${q(fd.vmId)},${fd.domainId},${q(fd.hwidMode)},${q(fd.globalMin)},[`);
    // FdIoasids visits by ascending id (test/hardware/fd-ioasids.test.ts holds it to that).
    let first = true;
    fd.ioasids.forEach((id, pasid, hostPasid) => {
      out(`${first ? '' : ','}[${id},${pasid},${hostPasid}]`);
      first = false;
    });
    out('],[');
    sortedNumbers(fd.attached.keys()).forEach((id, j) => {
      const perRid = fd.attached.get(id)!;
      out(`${j ? ',' : ''}[${id},${q([...perRid.keys()].sort().map((rid) => [rid, perRid.get(rid)]))}]`);
    });
    out(']');
    out(']');
  });

  out('],"pasids":[');
  if (s.space) {
    const space = s.space;
    let first = true;
    const names = new Map<number, string>();
    space.forEachOwned((pasid, slot, ioasid, origin) => {
      let name = names.get(slot);
      if (name === undefined) {
        name = q(s.fdsBySlot.get(slot)!.fdId);
        names.set(slot, name);
      }
      out(`${first ? '' : ','}[${pasid},${name},${ioasid},"${origin}"]`);
      first = false;
    });
  }

  out('],"vms":[');
  kvmTablesByViewKey(s).forEach(([key, table], i) => {
    out(`${i ? ',' : ''}[${q(key)},[`);
    sortedNumbers(table.keys()).forEach((g, j) => out(`${j ? ',' : ''}[${g},${table.get(g)}]`));
    out(']]');
  });
  out(']}');
}
