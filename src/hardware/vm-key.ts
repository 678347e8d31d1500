import { VM_KEY_SEPARATOR } from '../model/values';
import type { HwFd, HwState } from './types';

/**
 * How the hardware view and the hash name a VM. A VM is (tenantId, vmId): two tenants may use
 * the same vmId on one host. The view keeps API.md's key, the bare vmId, whenever one tenant
 * alone uses that vmId on the host (so every view and hash of such a host is what it always
 * was); only the VMs whose vmId several tenants use here are named `<tenantId>/<vmId>`.
 * Unambiguous because a vmId never contains VM_KEY_SEPARATOR (API ID pattern, checked again by
 * the decider), so a key with one is always tenant-qualified and splits at its last one.
 */
export function vmViewKey(s: HwState, fd: HwFd): string {
  const tenants = s.fdsOfVmId.get(fd.vmId)?.size ?? 0;
  return tenants > 1 ? `${fd.tenantId}${VM_KEY_SEPARATOR}${fd.vmId}` : fd.vmId;
}

/** A key of the view's `vms` back to the VM it names (tenantId only when the key carries one). */
export function parseVmViewKey(key: string): { vmId: string; tenantId?: string } {
  const at = key.lastIndexOf(VM_KEY_SEPARATOR);
  return at < 0 ? { vmId: key } : { tenantId: key.slice(0, at), vmId: key.slice(at + 1) };
}

/** The VMs with a CPU PASID table, by view key, sorted by key (the order of the hash). */
export function kvmTablesByViewKey(s: HwState): Array<[string, Map<number, number>]> {
  return [...s.kvm]
    .map(([fdId, table]): [string, Map<number, number>] => [vmViewKey(s, s.fds.get(fdId)!), table])
    .sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
}
