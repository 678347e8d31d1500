import type { CommandOf } from '../../model/commands';
import type { HostEvent } from '../../model/events';
import type { ProgrammedEntry } from '../../model/values';
import { deviceOf, type HostState } from '../state';
import { fail, requireGpa, requireIoasid, requireMode, requireMutableFd } from './guards';
import { checkWidth, pasidsOf, plannedEntries } from './programming';
import { entriesOf } from './release';

/**
 * Binding a bound ioasid again replaces its page table atomically (one PgtableReplaced repointing
 * every entry of the ioasid, never a moment without one); the same gpa again changes nothing.
 */
export function bindPgtable(command: CommandOf<'BindPgtable'>, state: HostState): HostEvent[] {
  const fd = requireMutableFd(state, command.fdId, command.actorTenantId);
  const io = requireIoasid(fd, command.ioasid);
  const gpa = requireGpa(command.gpa);
  const mode = requireMode(fd);
  if (io.pasid === undefined) fail('HWID_NOT_SET', `ioasid ${io.ioasid} needs a hwid before a page table`);
  if (io.pgtableGpa === gpa) return [];
  if (io.pgtableGpa !== undefined) {
    return [{ type: 'PgtableReplaced', data: { fdId: fd.fdId, ioasid: io.ioasid, gpa, previousGpa: io.pgtableGpa, repointed: entriesOf(state, fd, io) } }];
  }
  if (io.attachments.length === 0) fail('NOT_ATTACHED', `ioasid ${io.ioasid} has no device attached`);
  const programmed: ProgrammedEntry[] = [];
  const target = { fdId: fd.fdId, ioasid: io.ioasid, domainId: fd.domainId, gpa };
  for (const attachment of io.attachments) {
    const device = deviceOf(state, attachment.rid)!;
    const pasids = pasidsOf(mode, device.kind, attachment.enqcmd, io).filter(
      (p) => !programmed.some((e) => e.rid === device.rid && e.pasid === p.pasid),
    );
    checkWidth(device.rid, device.pasidBits, pasids);
    programmed.push(...plannedEntries(state, target, device.rid, pasids));
  }
  return [{ type: 'PgtableBound', data: { fdId: fd.fdId, ioasid: io.ioasid, gpa, programmed } }];
}

export function unbindPgtable(command: CommandOf<'UnbindPgtable'>, state: HostState): HostEvent[] {
  const fd = requireMutableFd(state, command.fdId, command.actorTenantId);
  const io = requireIoasid(fd, command.ioasid);
  if (io.pgtableGpa === undefined) fail('NOT_FOUND', `ioasid ${io.ioasid} has no page table bound`);
  return [{ type: 'PgtableUnbound', data: { fdId: fd.fdId, ioasid: io.ioasid, cleared: entriesOf(state, fd, io) } }];
}
