import type { DeviceKind, HwidMode, PasidOrigin, ProgrammedEntry, Rid } from '../../model/values';
import type { HostState } from '../state';
import { fail } from './guards';

export interface HwidPasids {
  pasid?: number;
  globalPasid?: number;
  realPasid?: number;
}

/**
 * The PASIDs an attachment carries once its ioasid has a hwid (DOMAIN.md op 8): vf in local
 * mode at the user PASID; vf in global mode at the local and the global PASID, or only the
 * global one for an enqcmd attachment; siov only at the host PASID (real or global).
 */
export function pasidsOf(mode: HwidMode, kind: DeviceKind, enqcmd: boolean, io: HwidPasids): Array<{ pasid: number; origin: PasidOrigin }> {
  if (io.pasid === undefined) return [];
  const out: Array<{ pasid: number; origin: PasidOrigin }> = [];
  if (kind === 'siov') {
    if (mode === 'global' && io.globalPasid !== undefined) out.push({ pasid: io.globalPasid, origin: 'global' });
    if (mode === 'local' && io.realPasid !== undefined) out.push({ pasid: io.realPasid, origin: 'real' });
    return out;
  }
  if (mode === 'local' || !enqcmd) out.push({ pasid: io.pasid, origin: 'local' });
  if (mode === 'global' && io.globalPasid !== undefined) out.push({ pasid: io.globalPasid, origin: 'global' });
  return out;
}

/** I4: every PASID a device carries fits its width. */
export function checkWidth(rid: Rid, pasidBits: number, pasids: Array<{ pasid: number }>): void {
  for (const { pasid } of pasids) {
    if (pasid >= 2 ** pasidBits) {
      fail('PASID_WIDTH_EXCEEDED', `PASID ${pasid} does not fit the ${pasidBits}-bit PASID width of ${rid}`, { rid, pasid, pasidBits });
    }
  }
}

/**
 * Local mode, siov: the user PASID is virtual (the mdev's emulated PASID, never programmed in the
 * IOMMU), but the guest was shown the device's width: it must fit that width too, not only the host's.
 */
export function checkVirtualWidth(mode: HwidMode, device: { rid: Rid; kind: DeviceKind; pasidBits: number }, pasid: number | undefined): void {
  if (mode !== 'local' || device.kind !== 'siov' || pasid === undefined) return;
  if (pasid >= 2 ** device.pasidBits) {
    fail('PASID_WIDTH_EXCEEDED', `virtual PASID ${pasid} does not fit the ${device.pasidBits}-bit PASID width of ${device.rid}`, { rid: device.rid, pasid, pasidBits: device.pasidBits });
  }
}

/**
 * The entries to program on `rid` for an ioasid with a bound page table. An entry already
 * present for the same (fd, ioasid) is left as it is (another mdev of the same siov RID);
 * one of anything else is PASID_IN_USE: the hardware is never overwritten.
 */
export function plannedEntries(
  state: HostState,
  target: { fdId: string; ioasid: number; domainId: number; gpa: string },
  rid: Rid,
  pasids: Array<{ pasid: number; origin: PasidOrigin }>,
): ProgrammedEntry[] {
  const out: ProgrammedEntry[] = [];
  for (const { pasid, origin } of pasids) {
    const present = state.hw.entryAt(rid, pasid);
    if (present) {
      if (present.fdId === target.fdId && present.ioasid === target.ioasid) continue;
      fail('PASID_IN_USE', `PASID ${pasid} on ${rid} is already programmed for another address space`, { rid, pasid });
    }
    out.push({ rid, pasid, origin, fdId: target.fdId, ioasid: target.ioasid, firstStageGpa: target.gpa, domainId: target.domainId });
  }
  return out;
}
