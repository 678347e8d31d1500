import type { CommandOf } from '../../model/commands';
import type { HostEvent } from '../../model/events';
import type { PasidRange } from '../../model/values';
import type { HostState } from '../state';
import { fail, isIntegerIn } from './guards';

export function registerHost(command: CommandOf<'RegisterHost'>, state: HostState): HostEvent[] {
  if (state.host) fail('ALREADY_EXISTS', `host ${state.host.hostId} is already registered`, { hostId: state.host.hostId });
  if (typeof command.hostId !== 'string' || command.hostId.length === 0) fail('INVALID_RANGE', 'hostId must be a non-empty string');
  if (!isIntegerIn(command.pasidBits, 1, 21)) fail('INVALID_RANGE', `host pasidBits ${command.pasidBits} is not in 1..20`, { pasidBits: command.pasidBits });
  const seen = new Set<string>();
  for (const d of command.devices ?? []) {
    if (typeof d.rid !== 'string' || d.rid.length === 0) fail('INVALID_RANGE', 'every device needs a rid');
    if (seen.has(d.rid)) fail('ALREADY_EXISTS', `device ${d.rid} is listed twice`, { rid: d.rid });
    seen.add(d.rid);
    if (d.kind !== 'vf' && d.kind !== 'siov') fail('INVALID_RANGE', `device ${d.rid} kind must be vf or siov`, { rid: d.rid });
    if (!isIntegerIn(d.pasidBits, 1, command.pasidBits + 1)) {
      fail('INVALID_RANGE', `device ${d.rid} pasidBits ${d.pasidBits} is not in 1..${command.pasidBits} (the host's)`, { rid: d.rid });
    }
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
