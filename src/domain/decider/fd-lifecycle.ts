import type { CommandOf } from '../../model/commands';
import type { HostEvent } from '../../model/events';
import type { Quotas } from '../../model/values';
import { hasHwid } from '../pasid-index';
import { VM_KEY_SEPARATOR } from '../../model/values';
import { tenantUsage, type HostState } from '../state';
import { fail, isIntegerIn, requireHost, requireIoasid, requireMode, requireMutableFd } from './guards';
import { releaseFd, releaseIoasid } from './release';

/**
 * A host that takes new fds (not cordoned), one open fd per VM on a host, and the tenant's fd quota (I8). A VM belongs to a tenant: the
 * same vmId of another tenant is another VM, which neither blocks this one nor shows through it.
 */
export function checkNewFd(state: HostState, fdId: string, tenantId: string, vmId: string, actorTenantId: string | undefined, quotas: Quotas): void {
  const host = requireHost(state);
  if (actorTenantId !== undefined && actorTenantId !== tenantId) fail('FORBIDDEN', 'a tenant creates fds only for itself');
  // Cordoned for maintenance: neither a new fd nor an import lands here; the open fds go on, and may migrate out.
  if (host.cordoned) fail('HOST_CORDONED', `host ${host.hostId} is cordoned: it takes no new fd`, { hostId: host.hostId });
  // The hardware view names a vmId two tenants share `<tenantId>/<vmId>`: a vmId with the separator would be ambiguous.
  if (typeof vmId !== 'string' || vmId.length === 0 || vmId.includes(VM_KEY_SEPARATOR)) {
    fail('INVALID_RANGE', `vmId must be a non-empty string without '${VM_KEY_SEPARATOR}'`);
  }
  if (state.fds.has(fdId)) fail('ALREADY_EXISTS', `fd ${fdId} already exists`, { fdId });
  if (state.hw.fdOfVm(tenantId, vmId) !== undefined) fail('ALREADY_EXISTS', `VM ${vmId} already has an open fd on this host`, { vmId });
  const open = tenantUsage(state, tenantId).fds;
  if (open >= quotas.maxFds) {
    fail('QUOTA_EXCEEDED', `tenant ${tenantId} has ${open} open fds on this host, its quota is ${quotas.maxFds}`, { quota: 'maxFds', limit: quotas.maxFds });
  }
}

export function createFd(command: CommandOf<'CreateFd'>, state: HostState, quotas: Quotas): HostEvent[] {
  checkNewFd(state, command.fdId, command.tenantId, command.vmId, command.actorTenantId, quotas);
  return [{ type: 'FdCreated', data: { fdId: command.fdId, tenantId: command.tenantId, vmId: command.vmId, domainId: state.nextDomainId } }];
}

export function closeFd(command: CommandOf<'CloseFd'>, state: HostState): HostEvent[] {
  const fd = requireMutableFd(state, command.fdId, command.actorTenantId);
  return [{ type: 'FdClosed', data: { fdId: fd.fdId, released: releaseFd(state, fd) } }];
}

export function setHwidMode(command: CommandOf<'SetHwidMode'>, state: HostState): HostEvent[] {
  const fd = requireMutableFd(state, command.fdId, command.actorTenantId);
  if (fd.hwidMode) fail('HWID_MODE_ALREADY_SET', `fd ${fd.fdId} already uses hwid mode ${fd.hwidMode}`, { mode: fd.hwidMode });
  if (command.mode !== 'local' && command.mode !== 'global') fail('INVALID_RANGE', `hwid mode must be local or global`);
  return [{ type: 'HwidModeSet', data: { fdId: fd.fdId, mode: command.mode } }];
}

export function setGlobalMin(command: CommandOf<'SetGlobalMin'>, state: HostState): HostEvent[] {
  const host = requireHost(state);
  const fd = requireMutableFd(state, command.fdId, command.actorTenantId);
  if (requireMode(fd) !== 'global') fail('WRONG_HWID_MODE', 'global-min needs global hwid mode');
  if (hasHwid(state, fd)) fail('GLOBAL_MIN_LOCKED', 'global-min is fixed once a hwid exists');
  const max = 2 ** host.pasidBits;
  if (!isIntegerIn(command.globalMin, 1, max)) fail('INVALID_RANGE', `globalMin must be in [1, ${max})`, { globalMin: command.globalMin });
  return [{ type: 'GlobalMinSet', data: { fdId: fd.fdId, globalMin: command.globalMin } }];
}

export function allocIoasid(command: CommandOf<'AllocIoasid'>, state: HostState): HostEvent[] {
  const fd = requireMutableFd(state, command.fdId, command.actorTenantId);
  let ioasid = fd.ioasidFloor;
  while (fd.ioasids.has(ioasid)) ioasid++;
  return [{ type: 'IoasidAllocated', data: { fdId: fd.fdId, ioasid } }];
}

export function freeIoasid(command: CommandOf<'FreeIoasid'>, state: HostState): HostEvent[] {
  const fd = requireMutableFd(state, command.fdId, command.actorTenantId);
  const io = requireIoasid(fd, command.ioasid);
  if (io.attachments.length > 0) {
    fail('IOASID_BUSY', `ioasid ${io.ioasid} still has ${io.attachments.length} attachment(s)`, { attachments: io.attachments.map((a) => a.rid) });
  }
  return [{ type: 'IoasidFreed', data: { fdId: fd.fdId, ioasid: io.ioasid, released: releaseIoasid(state, fd, io) } }];
}
