import type { Rid } from '../model/values';
export { VDEV_ID_PATTERN } from '../model/values';
import type { FdState } from './state';


/**
 * The vdevId of an attachment stored without one (events and snapshots of earlier releases):
 * a function of what they already say, so that replaying them always gives the same id.
 * Unique within the fd: a vf is attached at most once per ioasid, an mdev is unique on its host.
 */
export function legacyVdevId(ioasid: number, rid: Rid, mdevId: string | undefined): string {
  return mdevId !== undefined ? `siov-${mdevId}` : `vf-${ioasid}-${rid}`;
}

/** The vdevIds the fd's attachments use. */
export function vdevIdsOf(fd: FdState): Set<string> {
  const used = new Set<string>();
  for (const io of fd.ioasids.withDetails()) for (const a of io.attachments) used.add(a.vdevId);
  return used;
}

/** The vdevId the host assigns when the caller gives none: the lowest `vdev-<n>` the fd does not use. */
export function nextVdevId(used: ReadonlySet<string>): string {
  let n = 1;
  while (used.has(`vdev-${n}`)) n++;
  return `vdev-${n}`;
}
