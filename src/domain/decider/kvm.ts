import type { CommandOf } from '../../model/commands';
import type { HostEvent } from '../../model/events';
import { pasidUsers } from '../pasid-index';
import type { HostState } from '../state';
import { fail, requireHost, requireMode, requireMutableFd } from './guards';

/**
 * Maps a guest PASID to the global PASID this fd holds for it (I6). Since one local PASID has
 * exactly one global PASID per fd, a guest PASID can never be re-pointed elsewhere: repeating
 * the same mapping changes nothing (no event), anything else is PASID_NOT_OWNED.
 */
export function setKvmPasidMapping(command: CommandOf<'SetKvmPasidMapping'>, state: HostState): HostEvent[] {
  const host = requireHost(state);
  const fd = requireMutableFd(state, command.fdId, command.actorTenantId);
  if (!host.enqcmd) fail('CAPABILITY_MISSING', `host ${host.hostId} has no ENQCMD PASID translation`);
  if (requireMode(fd) !== 'global') fail('WRONG_HWID_MODE', 'KVM PASID mappings need global hwid mode');
  const { guestPasid, hostPasid } = command;
  const ioasid = pasidUsers(state, fd, guestPasid)[0];
  const io = ioasid === undefined ? undefined : fd.ioasids.get(ioasid);
  if (!io || io.globalPasid === undefined || io.globalPasid !== hostPasid) {
    fail('PASID_NOT_OWNED', `fd ${fd.fdId} holds no global PASID ${hostPasid} for guest PASID ${guestPasid}`, { guestPasid, hostPasid });
  }
  if (state.hw.kvmMappingsOf(fd.fdId).get(guestPasid) === hostPasid) return [];
  return [{ type: 'KvmPasidMapped', data: { fdId: fd.fdId, vmId: fd.vmId, guestPasid, hostPasid } }];
}

export function unsetKvmPasidMapping(command: CommandOf<'UnsetKvmPasidMapping'>, state: HostState): HostEvent[] {
  const fd = requireMutableFd(state, command.fdId, command.actorTenantId);
  if (!state.hw.kvmMappingsOf(fd.fdId).has(command.guestPasid)) {
    fail('NOT_FOUND', `no KVM PASID mapping for guest PASID ${command.guestPasid}`, { guestPasid: command.guestPasid });
  }
  return [{ type: 'KvmPasidUnmapped', data: { fdId: fd.fdId, vmId: fd.vmId, guestPasid: command.guestPasid } }];
}
