import type { CommandOf } from '../../model/commands';
import type { HostEvent } from '../../model/events';
import type { DecideContext } from './context';
import type { DeviceSpec, Rid } from '../../model/values';
import { pasidUsers } from '../pasid-index';
import type { FdState, HostState } from '../state';
import type { IoasidState } from '../ioasid-table';
import { fail, requireDevice, requireGpa, requireHost, requireIoasid, requireMode, requireMutableFd } from './guards';
import { PasidPlan } from './pasid-plan';
import { checkVirtualWidth, checkWidth, pasidsOf, plannedEntries } from './programming';
import { emptyReleased, entriesOf, guestContextsOf } from './release';
import { nextVdevId, VDEV_ID_PATTERN, vdevIdsOf } from '../vdev-id';

/** Local mode, vf: the user PASID claims (rid, pasid); another ioasid of the fd on that RID may not use it (I2). */
export function checkLocalClaim(state: HostState, fd: FdState, io: IoasidState, rid: Rid, pasid: number): void {
  for (const other of pasidUsers(state, fd, pasid)) {
    if (other === io.ioasid) continue;
    if (fd.ioasids.get(other)!.attachments.some((a) => a.rid === rid)) {
      fail('PASID_IN_USE', `PASID ${pasid} on ${rid} is already the hwid of ioasid ${other}`, { rid, pasid, ioasid: other });
    }
  }
}

/** vf RIDs on a guest PASID table serve that table's ioasid only. */
function checkGuestTableExclusive(state: HostState, fd: FdState, io: IoasidState, device: DeviceSpec): void {
  const ctx = state.hw.contextOf(device.rid);
  if (ctx?.table === 'guest' && ctx.ioasid !== io.ioasid) {
    fail('DEVICE_BUSY', `${device.rid} uses the guest PASID table of ioasid ${ctx.ioasid}`, { rid: device.rid });
  }
  if (io.pasidTableGpa === undefined) return;
  if (device.kind !== 'vf') fail('CAPABILITY_MISSING', `siov ${device.rid} needs its PASID table in host memory: it cannot use a guest PASID table`);
  const elsewhere = [...fd.ioasids.withDetails()].find((o) => o.ioasid !== io.ioasid && o.attachments.some((a) => a.rid === device.rid));
  if (elsewhere) {
    fail('DEVICE_BUSY', `${device.rid} is attached to ioasid ${elsewhere.ioasid}: it cannot also use a guest PASID table`, { rid: device.rid });
  }
}

/** The caller's vdevId (well-formed, not used in the fd) or the next free one. */
function chooseVdevId(fd: FdState, given: unknown): string {
  const used = vdevIdsOf(fd);
  if (given === undefined) return nextVdevId(used);
  if (typeof given !== 'string' || !VDEV_ID_PATTERN.test(given)) {
    fail('VALIDATION_FAILED', `vdevId ${String(given)} is not a device id`, { fields: [{ field: 'vdevId', message: `must match ${VDEV_ID_PATTERN.source}` }] });
  }
  if (used.has(given)) fail('ALREADY_EXISTS', `vdevId ${given} already names a device of fd ${fd.fdId}`, { vdevId: given });
  return given;
}

export function attachDevice(command: CommandOf<'AttachDevice'>, state: HostState, ctx: DecideContext): HostEvent[] {
  const host = requireHost(state);
  const fd = requireMutableFd(state, command.fdId, command.actorTenantId);
  const device = requireDevice(state, command.rid);
  const io = requireIoasid(fd, command.ioasid);
  const mode = requireMode(fd);
  const enqcmd = command.enqcmd === true;
  if (enqcmd && mode !== 'global') fail('WRONG_HWID_MODE', 'an enqcmd attachment needs global hwid mode');
  if (enqcmd && !host.enqcmd) fail('CAPABILITY_MISSING', `host ${host.hostId} has no ENQCMD PASID translation`);
  if (device.kind === 'vf') {
    const owner = state.hw.vfOwnerOf(device.rid);
    if (owner !== undefined && owner !== fd.fdId) fail('DEVICE_BUSY', `vf ${device.rid} is attached to another fd`, { rid: device.rid });
    if (io.attachments.some((a) => a.rid === device.rid)) {
      fail('ALREADY_ATTACHED', `${device.rid} is already attached to ioasid ${io.ioasid}`, { rid: device.rid });
    }
  }
  checkGuestTableExclusive(state, fd, io, device);
  const vdevId = chooseVdevId(fd, command.vdevId);

  let realPasid: number | undefined;
  if (device.kind === 'siov' && mode === 'local' && io.pasid !== undefined && io.realPasid === undefined) {
    realPasid = new PasidPlan(state, fd.tenantId, ctx.quotasFor(fd.tenantId)).take(1, 2 ** Math.min(host.pasidBits, device.pasidBits), `the real PASID of ioasid ${io.ioasid}`);
  }
  const pasids = pasidsOf(mode, device.kind, enqcmd, { ...io, realPasid: io.realPasid ?? realPasid });
  checkWidth(device.rid, device.pasidBits, pasids);
  checkVirtualWidth(mode, device, io.pasid);
  if (mode === 'local' && device.kind === 'vf' && io.pasid !== undefined) checkLocalClaim(state, fd, io, device.rid, io.pasid);
  const programmed =
    io.pgtableGpa === undefined
      ? []
      : plannedEntries(state, { fdId: fd.fdId, ioasid: io.ioasid, domainId: fd.domainId, gpa: io.pgtableGpa }, device.rid, pasids);
  return [
    {
      type: 'DeviceAttached',
      data: {
        fdId: fd.fdId,
        ioasid: io.ioasid,
        rid: device.rid,
        enqcmd,
        vdevId,
        ...(device.kind === 'siov' ? { mdevId: `mdev-${state.nextMdev}` } : {}),
        ...(realPasid !== undefined ? { realPasid } : {}),
        programmed,
        ...(io.pasidTableGpa !== undefined ? { guestPasidTableGpa: io.pasidTableGpa } : {}),
      },
    },
  ];
}

export function detachDevice(command: CommandOf<'DetachDevice'>, state: HostState): HostEvent[] {
  const fd = requireMutableFd(state, command.fdId, command.actorTenantId);
  const io = requireIoasid(fd, command.ioasid);
  const device = requireDevice(state, command.rid);
  const mine = io.attachments.filter((a) => a.rid === device.rid);
  if (mine.length === 0) fail('NOT_ATTACHED', `${device.rid} is not attached to ioasid ${io.ioasid}`, { rid: device.rid });
  let attachment = mine[0]!;
  if (device.kind === 'siov') {
    if (command.mdevId !== undefined) {
      const named = mine.find((a) => a.mdevId === command.mdevId);
      if (!named) fail('NOT_ATTACHED', `mdev ${command.mdevId} of ${device.rid} is not attached to ioasid ${io.ioasid}`, { mdevId: command.mdevId });
      attachment = named;
    } else if (mine.length > 1) {
      fail('VALIDATION_FAILED', `${device.rid} has ${mine.length} mdevs on ioasid ${io.ioasid}: name one with mdevId`, {
        fields: [{ field: 'mdevId', message: 'required when the RID has several mdevs on the ioasid' }],
      });
    }
  }
  const released = emptyReleased();
  // The RID's entries and context belong to the (rid, ioasid) pair: they go with its last attachment.
  if (mine.length === 1) {
    released.entries.push(...entriesOf(state, fd, io, [device.rid]));
    released.contexts.push(...guestContextsOf(state, fd, io, [device.rid]));
  }
  if (attachment.mdevId !== undefined) released.mdevs.push(attachment.mdevId);
  return [
    {
      type: 'DeviceDetached',
      data: {
        fdId: fd.fdId,
        ioasid: io.ioasid,
        rid: device.rid,
        ...(attachment.mdevId !== undefined ? { mdevId: attachment.mdevId } : {}),
        released,
      },
    },
  ];
}

export function setPasidTable(command: CommandOf<'SetPasidTable'>, state: HostState): HostEvent[] {
  const host = requireHost(state);
  const fd = requireMutableFd(state, command.fdId, command.actorTenantId);
  const io = requireIoasid(fd, command.ioasid);
  const gpa = requireGpa(command.gpa);
  if (requireMode(fd) !== 'local') fail('WRONG_HWID_MODE', 'a guest PASID table needs local hwid mode');
  if (!host.nestedPasidTable) fail('CAPABILITY_MISSING', `host ${host.hostId} cannot walk a guest PASID table`);
  if (io.attachments.length === 0) fail('NOT_ATTACHED', `ioasid ${io.ioasid} has no device attached yet`);
  const siov = io.attachments.find((a) => a.mdevId !== undefined);
  if (siov) fail('CAPABILITY_MISSING', `siov ${siov.rid} needs its PASID table in host memory`, { rid: siov.rid });
  if (io.pasidTableGpa !== undefined) fail('ALREADY_EXISTS', `ioasid ${io.ioasid} already has a guest PASID table`);
  if (io.pasid !== undefined) fail('HWID_ALREADY_SET', `ioasid ${io.ioasid} has hwid ${io.pasid}: a guest PASID table replaces per-PASID hwids`);
  const rids = io.attachments.map((a) => a.rid);
  for (const rid of rids) {
    const elsewhere = [...fd.ioasids.withDetails()].find((o) => o.ioasid !== io.ioasid && o.attachments.some((a) => a.rid === rid));
    if (elsewhere) fail('DEVICE_BUSY', `${rid} is also attached to ioasid ${elsewhere.ioasid}`, { rid });
  }
  return [{ type: 'PasidTableSet', data: { fdId: fd.fdId, ioasid: io.ioasid, gpa, contexts: rids } }];
}
