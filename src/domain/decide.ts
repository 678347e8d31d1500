import type { HostCommand } from '../model/commands';
import { abortMigration, completeMigration, startMigration } from './decider/migration';
import { barMigrationImport, requireImportNotBarred } from './decider/migration-fence';
import { attachDevice, detachDevice, setPasidTable } from './decider/attachments';
import { allocIoasid, closeFd, createFd, freeIoasid, setGlobalMin, setHwidMode } from './decider/fd-lifecycle';
import { fail } from './decider/guards';
import { addDevice, cordonHost, decommissionHost, refuseIfDecommissioned, registerHost, removeDevice, uncordonHost } from './decider/host';
import { getHwid, setHwid } from './decider/hwid';
import { importFd } from './decider/import';
import { setKvmPasidMapping, unsetKvmPasidMapping } from './decider/kvm';
import { bindPgtable, unbindPgtable } from './decider/pgtable';
import type { HostEvent } from '../model/events';
import type { DecideContext } from './decider/context';
import type { HostState } from './state';

export type { DecideContext };

/**
 * The decider of one host: what a command does, as events, or a DomainError. Pure: it reads
 * the state (and its hardware) and never changes it; every choice it makes is in the events.
 */
export function decide(command: HostCommand, state: HostState, ctx: DecideContext): HostEvent[] {
  refuseIfDecommissioned(command, state);
  switch (command.type) {
    case 'RegisterHost':
      return registerHost(command, state);
    case 'AddDevice':
      return addDevice(command, state);
    case 'RemoveDevice':
      return removeDevice(command, state);
    case 'CordonHost':
      return cordonHost(state);
    case 'UncordonHost':
      return uncordonHost(state);
    case 'DecommissionHost':
      return decommissionHost(state);
    case 'CreateFd':
      return createFd(command, state, ctx.quotasFor(command.tenantId));
    case 'CloseFd':
      return closeFd(command, state);
    case 'SetHwidMode':
      return setHwidMode(command, state);
    case 'SetGlobalMin':
      return setGlobalMin(command, state);
    case 'AllocIoasid':
      return allocIoasid(command, state);
    case 'FreeIoasid':
      return freeIoasid(command, state);
    case 'AttachDevice':
      return attachDevice(command, state, ctx);
    case 'DetachDevice':
      return detachDevice(command, state);
    case 'SetPasidTable':
      return setPasidTable(command, state);
    case 'SetHwid':
      return setHwid(command, state, ctx);
    case 'GetHwid':
      return getHwid(command, state);
    case 'BindPgtable':
      return bindPgtable(command, state);
    case 'UnbindPgtable':
      return unbindPgtable(command, state);
    case 'SetKvmPasidMapping':
      return setKvmPasidMapping(command, state);
    case 'UnsetKvmPasidMapping':
      return unsetKvmPasidMapping(command, state);
    case 'StartMigration':
      return startMigration(command, state);
    case 'CompleteMigration':
      return completeMigration(command, state);
    case 'AbortMigration':
      return abortMigration(command, state);
    case 'BarMigrationImport':
      return barMigrationImport(command, state);
    case 'ImportFd':
      requireImportNotBarred(state, command.migrationId);
      return importFd(command, state, ctx.quotasFor(command.tenantId));
    default: {
      // A command type added to HostCommand without a case here does not compile.
      const _: never = command;
      return fail('VALIDATION_FAILED', `unknown command ${(_ as { type?: unknown }).type}`);
    }
  }
}
