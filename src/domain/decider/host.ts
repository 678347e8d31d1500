import type { CommandOf, HostCommand } from '../../model/commands';
import type { HostEvent } from '../../model/events';
import type { DeviceSpec, PasidRange } from '../../model/values';
import { deviceOf, type HostState } from '../state';
import { fail, isIntegerIn, requireDevice, requireHost } from './guards';

export function registerHost(command: CommandOf<'RegisterHost'>, state: HostState): HostEvent[] {
  if (state.host) fail('ALREADY_EXISTS', `host ${state.host.hostId} is already registered`, { hostId: state.host.hostId });
  if (typeof command.hostId !== 'string' || command.hostId.length === 0) fail('INVALID_RANGE', 'hostId must be a non-empty string');
  if (!isIntegerIn(command.pasidBits, 1, 21)) fail('INVALID_RANGE', `host pasidBits ${command.pasidBits} is not in 1..20`, { pasidBits: command.pasidBits });
  const seen = new Set<string>();
  for (const d of command.devices ?? []) {
    checkDevice(d, command.pasidBits);
    if (seen.has(d.rid)) fail('ALREADY_EXISTS', `device ${d.rid} is listed twice`, { rid: d.rid });
    seen.add(d.rid);
  }
  const reserved = reservedRanges(command.reservedPasids, command.pasidBits);
  return [
    {
      type: 'HostRegistered',
      data: {
        hostId: command.hostId,
        pasidBits: command.pasidBits,
        enqcmd: command.enqcmd === true,
        nestedPasidTable: command.nestedPasidTable === true,
        devices: (command.devices ?? []).map((d) => ({ rid: d.rid, kind: d.kind, pasidBits: d.pasidBits })),
        ...(reserved.length > 0 ? { reservedPasids: reserved } : {}),
      },
    },
  ];
}

/** A device of a host whose IOMMU is `hostPasidBits` wide: a rid, a kind, a width within the host's (INVALID_RANGE). */
function checkDevice(d: DeviceSpec, hostPasidBits: number): void {
  if (!d || typeof d.rid !== 'string' || d.rid.length === 0) fail('INVALID_RANGE', 'every device needs a rid');
  if (d.kind !== 'vf' && d.kind !== 'siov') fail('INVALID_RANGE', `device ${d.rid} kind must be vf or siov`, { rid: d.rid });
  if (!isIntegerIn(d.pasidBits, 1, hostPasidBits + 1)) {
    fail('INVALID_RANGE', `device ${d.rid} pasidBits ${d.pasidBits} is not in 1..${hostPasidBits} (the host's)`, { rid: d.rid });
  }
}

/**
 * A decommissioned host refuses every command (HOST_DECOMMISSIONED), registering its hostId
 * again included, so that its stream ends with HostDecommissioned. The migration fence's bar is
 * the one exception (migration-fence.ts): it has nothing to bar there, and refusing it would
 * leave a stalled migration unsettled for ever.
 */
export function refuseIfDecommissioned(command: HostCommand, state: HostState): void {
  if (state.host?.decommissioned && command.type !== 'BarMigrationImport') {
    fail('HOST_DECOMMISSIONED', `host ${state.host.hostId} is decommissioned`, { hostId: state.host.hostId });
  }
}

/** Hot-add: a RID the host does not have (ALREADY_EXISTS), of a width within the host's. Allowed on a cordoned host: that is what maintenance is for. */
export function addDevice(command: CommandOf<'AddDevice'>, state: HostState): HostEvent[] {
  const host = requireHost(state);
  const device: DeviceSpec = { rid: command.rid, kind: command.kind, pasidBits: command.pasidBits };
  checkDevice(device, host.pasidBits);
  if (deviceOf(state, device.rid)) fail('ALREADY_EXISTS', `host ${host.hostId} already has device ${device.rid}`, { rid: device.rid });
  return [{ type: 'DeviceAdded', data: { hostId: host.hostId, ...device } }];
}

/**
 * Hot-remove: only a device nothing holds. The hardware names every fd holding something on
 * the RID (a vf's owner, a siov's mdevs, a programmed entry, a guest PASID table context):
 * DEVICE_BUSY names them. An ioasid keeps no trace of a device it is no longer attached to.
 */
export function removeDevice(command: CommandOf<'RemoveDevice'>, state: HostState): HostEvent[] {
  const host = requireHost(state);
  const device = requireDevice(state, command.rid);
  const fdIds = state.hw.fdsOnRid(device.rid);
  if (fdIds.length > 0) fail('DEVICE_BUSY', `device ${device.rid} is in use by fd(s) ${fdIds.join(', ')}`, { rid: device.rid, fdIds });
  return [{ type: 'DeviceRemoved', data: { hostId: host.hostId, rid: device.rid } }];
}

/** Cordoning a cordoned host (or uncordoning an uncordoned one) decides nothing: 200 without an event, as a replace with the same gpa. */
export function cordonHost(state: HostState): HostEvent[] {
  const host = requireHost(state);
  return host.cordoned ? [] : [{ type: 'HostCordoned', data: { hostId: host.hostId } }];
}

export function uncordonHost(state: HostState): HostEvent[] {
  const host = requireHost(state);
  return host.cordoned ? [{ type: 'HostUncordoned', data: { hostId: host.hostId } }] : [];
}

/** Only a host without open fds (HOST_BUSY names them: close or migrate them first); a migration into it not yet imported will be refused. */
export function decommissionHost(state: HostState): HostEvent[] {
  const host = requireHost(state);
  if (state.fds.size > 0) {
    const fdIds = [...state.fds.keys()].sort();
    fail('HOST_BUSY', `host ${host.hostId} still has ${fdIds.length} open fd(s)`, { hostId: host.hostId, fdIds });
  }
  return [{ type: 'HostDecommissioned', data: { hostId: host.hostId } }];
}

/** The host's reserved PASIDs, sorted: each range non-empty, inside [1, 2^pasidBits), none overlapping another (INVALID_RANGE). */
function reservedRanges(ranges: PasidRange[] | undefined, pasidBits: number): PasidRange[] {
  if (ranges === undefined) return [];
  if (!Array.isArray(ranges)) fail('INVALID_RANGE', 'reservedPasids must be a list of {from, count}');
  const max = 2 ** pasidBits;
  const sorted = ranges.map((r) => {
    if (!r || !isIntegerIn(r.from, 1, max) || !isIntegerIn(r.count, 1, max) || r.from + r.count > max) {
      fail('INVALID_RANGE', `reserved range ${JSON.stringify(r)} is not inside [1, ${max})`, { range: r, max });
    }
    return { from: r.from, count: r.count };
  });
  sorted.sort((a, b) => a.from - b.from);
  for (let i = 1; i < sorted.length; i++) {
    const before = sorted[i - 1]!;
    if (sorted[i]!.from < before.from + before.count) {
      fail('INVALID_RANGE', `reserved ranges ${JSON.stringify(before)} and ${JSON.stringify(sorted[i])} overlap`, { ranges: [before, sorted[i]] });
    }
  }
  return sorted;
}
