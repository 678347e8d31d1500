import type { CommandOf } from '../../model/commands';
import type { HostEvent } from '../../model/events';
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
  return [
    {
      type: 'HostRegistered',
      data: {
        hostId: command.hostId,
        pasidBits: command.pasidBits,
        enqcmd: command.enqcmd === true,
        nestedPasidTable: command.nestedPasidTable === true,
        devices: (command.devices ?? []).map((d) => ({ rid: d.rid, kind: d.kind, pasidBits: d.pasidBits })),
      },
    },
  ];
}
