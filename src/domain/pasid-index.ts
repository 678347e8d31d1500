import type { FdState, HostState } from './state';

/**
 * Which ioasids of an fd use a user PASID as their hwid. Global mode asks the hardware (its
 * local -> global table already is that index); local mode keeps its own, almost always one
 * ioasid per PASID, stored as a bare number (an array only when a PASID serves several RIDs).
 */
export function pasidUsers(state: HostState, fd: FdState, pasid: number): readonly number[] {
  if (fd.hwidMode === 'global') {
    const ioasid = state.hw.ioasidOfLocalPasid(fd.fdId, pasid);
    return ioasid === undefined ? [] : [ioasid];
  }
  const users = fd.ioasidsByPasid.get(pasid);
  if (users === undefined) return [];
  return typeof users === 'number' ? [users] : users;
}

/** Whether any ioasid of the fd has a hwid. */
export function hasHwid(state: HostState, fd: FdState): boolean {
  return fd.hwidMode === 'global' ? state.hw.hasGlobalHwid(fd.fdId) : fd.ioasidsByPasid.size > 0;
}

/** Local mode only: records a hwid in the fd's own index. */
export function addPasidUser(fd: FdState, pasid: number, ioasid: number): void {
  if (fd.hwidMode === 'global') return;
  const users = fd.ioasidsByPasid.get(pasid);
  if (users === undefined) fd.ioasidsByPasid.set(pasid, ioasid);
  else fd.ioasidsByPasid.set(pasid, typeof users === 'number' ? [users, ioasid] : [...users, ioasid]);
}

export function removePasidUser(fd: FdState, pasid: number, ioasid: number): void {
  if (fd.hwidMode === 'global') return;
  const users = fd.ioasidsByPasid.get(pasid);
  const left = users === undefined ? [] : (typeof users === 'number' ? [users] : users).filter((id) => id !== ioasid);
  if (left.length === 0) fd.ioasidsByPasid.delete(pasid);
  else fd.ioasidsByPasid.set(pasid, left.length === 1 ? left[0]! : left);
}
