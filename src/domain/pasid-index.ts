import type { FdState } from './state';

/**
 * Per fd, user PASID -> the ioasids that use it as their hwid. Almost always one ioasid,
 * stored as a bare number (an array only when a local-mode PASID serves several RIDs'
 * ioasids), which keeps a million hwids cheap.
 */
export function pasidUsers(fd: FdState, pasid: number): readonly number[] {
  const users = fd.ioasidsByPasid.get(pasid);
  if (users === undefined) return [];
  return typeof users === 'number' ? [users] : users;
}

export function addPasidUser(fd: FdState, pasid: number, ioasid: number): void {
  const users = fd.ioasidsByPasid.get(pasid);
  if (users === undefined) fd.ioasidsByPasid.set(pasid, ioasid);
  else fd.ioasidsByPasid.set(pasid, typeof users === 'number' ? [users, ioasid] : [...users, ioasid]);
}

export function removePasidUser(fd: FdState, pasid: number, ioasid: number): void {
  const left = pasidUsers(fd, pasid).filter((id) => id !== ioasid);
  if (left.length === 0) fd.ioasidsByPasid.delete(pasid);
  else fd.ioasidsByPasid.set(pasid, left.length === 1 ? left[0]! : left);
}
