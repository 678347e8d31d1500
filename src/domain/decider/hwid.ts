import type { CommandOf } from '../../model/commands';
import type { HostEvent } from '../../model/events';
import type { DecideContext } from './context';
import { deviceOf, type HostState } from '../state';
import type { IoasidState } from '../ioasid-table';
import { pasidUsers } from '../pasid-index';
import { checkLocalClaim } from './attachments';
import { fail, isIntegerIn, requireFd, requireHost, requireIoasid, requireMode, requireMutableFd } from './guards';
import { PasidPlan } from './pasid-plan';
import { checkVirtualWidth, checkWidth, pasidsOf } from './programming';

export function setHwid(command: CommandOf<'SetHwid'>, state: HostState, ctx: DecideContext): HostEvent[] {
  const host = requireHost(state);
  const fd = requireMutableFd(state, command.fdId, command.actorTenantId);
  const io = requireIoasid(fd, command.ioasid);
  const mode = requireMode(fd);
  if (io.attachments.length === 0) fail('NOT_ATTACHED', `ioasid ${io.ioasid} takes a hwid only once a device is attached`);
  if (io.pasid !== undefined) fail('HWID_ALREADY_SET', `ioasid ${io.ioasid} already has hwid ${io.pasid}`, { pasid: io.pasid });
  if (io.pasidTableGpa !== undefined) fail('ALREADY_EXISTS', `ioasid ${io.ioasid} has a guest PASID table: the guest owns its PASIDs`);
  const hostMax = 2 ** host.pasidBits;
  const pasid = command.pasid;
  if (!isIntegerIn(pasid, 1, hostMax)) fail('PASID_OUT_OF_RANGE', `PASID ${pasid} is not in [1, ${hostMax})`, { pasid, max: hostMax });
  const devices = io.attachments.map((a) => ({ attachment: a, device: deviceOf(state, a.rid)! }));
  const plan = new PasidPlan(state, fd.tenantId, ctx.quotasFor(fd.tenantId));
  const decided: { globalPasid?: number; realPasid?: number } = {};

  if (mode === 'global') {
    if (fd.globalMin === null) fail('INVALID_RANGE', 'global hwid mode needs its split: set global-min first');
    if (pasid >= fd.globalMin) fail('PASID_OUT_OF_RANGE', `PASID ${pasid} is not a local PASID (below globalMin ${fd.globalMin})`, { pasid, globalMin: fd.globalMin });
    const user = pasidUsers(state, fd, pasid);
    if (user.length > 0) fail('PASID_IN_USE', `local PASID ${pasid} is already the hwid of ioasid ${user[0]}`, { pasid, ioasid: user[0] });
    for (const { attachment, device } of devices) checkWidth(device.rid, device.pasidBits, pasidsOf(mode, device.kind, attachment.enqcmd, { pasid }));
    const max = 2 ** Math.min(host.pasidBits, ...devices.map((d) => d.device.pasidBits));
    if (fd.globalMin >= max) {
      fail('PASID_WIDTH_EXCEEDED', `no global PASID from globalMin ${fd.globalMin} fits the attached devices (below ${max})`, { globalMin: fd.globalMin, max });
    }
    decided.globalPasid = plan.take(fd.globalMin, max, `the global PASID of ioasid ${io.ioasid}`);
  } else {
    for (const { device } of devices) {
      if (device.kind !== 'vf') continue;
      checkWidth(device.rid, device.pasidBits, [{ pasid }]);
      checkLocalClaim(state, fd, io, device.rid, pasid);
    }
    const siov = devices.filter((d) => d.device.kind === 'siov');
    for (const { device } of siov) checkVirtualWidth(mode, device, pasid);
    if (siov.length > 0) {
      const max = 2 ** Math.min(host.pasidBits, ...siov.map((d) => d.device.pasidBits));
      decided.realPasid = plan.take(1, max, `the real PASID of ioasid ${io.ioasid}`);
    }
  }
  return [{ type: 'HwidSet', data: { fdId: fd.fdId, ioasid: io.ioasid, pasid, ...decided } }];
}

/** The PASID the VMM programs into KVM or the device: global, real (local siov), else the user PASID. */
export function hostPasidOf(io: IoasidState): number | undefined {
  if (io.pasid === undefined) return undefined;
  return io.globalPasid ?? io.realPasid ?? io.pasid;
}

export function getHwid(command: CommandOf<'GetHwid'>, state: HostState): HostEvent[] {
  const fd = requireFd(state, command.fdId, command.actorTenantId);
  const io = requireIoasid(fd, command.ioasid);
  if (io.pasid === undefined) fail('HWID_NOT_SET', `ioasid ${io.ioasid} has no hwid yet`);
  if (fd.hwidMode !== 'local' || io.realPasid === undefined || !fd.migratable) return [];
  // Handing a real siov PASID to userspace pins the VM to this host's PASID space.
  if (fd.migration) fail('FD_MIGRATING', `exposing a real PASID would stop migration ${fd.migration.migrationId}`);
  return [
    {
      type: 'HwidExposed',
      data: {
        fdId: fd.fdId,
        ioasid: io.ioasid,
        hostPasid: io.realPasid,
        reason: `real siov PASID ${io.realPasid} of ioasid ${io.ioasid} was exposed to userspace in local mode`,
      },
    },
  ];
}
