import type { CommandOf } from '../../model/commands';
import type { HostEvent } from '../../model/events';
import type { FdState, HostState } from '../state';
import { fail, requireFd, requireMutableFd } from './guards';
import { releaseFd } from './release';

export function startMigration(command: CommandOf<'StartMigration'>, state: HostState): HostEvent[] {
  const fd = requireMutableFd(state, command.fdId, command.actorTenantId);
  if (!fd.migratable) fail('NOT_MIGRATABLE', `fd ${fd.fdId} is not migratable: ${fd.migratableReason}`, { reason: fd.migratableReason });
  return [{ type: 'MigrationStarted', data: { fdId: fd.fdId, migrationId: command.migrationId, targetHostId: command.targetHostId } }];
}

function requireMigration(state: HostState, fdId: string, actorTenantId: string | undefined, migrationId: string): FdState {
  const fd = requireFd(state, fdId, actorTenantId);
  if (fd.migration?.migrationId !== migrationId) fail('NOT_FOUND', `fd ${fdId} has no migration ${migrationId} in progress`, { migrationId });
  return fd;
}

/** The target has committed: the source releases everything, exactly as a close would. */
export function completeMigration(command: CommandOf<'CompleteMigration'>, state: HostState): HostEvent[] {
  const fd = requireMigration(state, command.fdId, command.actorTenantId, command.migrationId);
  return [
    {
      type: 'FdMigratedOut',
      data: { fdId: fd.fdId, migrationId: command.migrationId, targetFdId: command.targetFdId, released: releaseFd(state, fd) },
    },
  ];
}

export function abortMigration(command: CommandOf<'AbortMigration'>, state: HostState): HostEvent[] {
  const fd = requireMigration(state, command.fdId, command.actorTenantId, command.migrationId);
  return [{ type: 'MigrationAborted', data: { fdId: fd.fdId, migrationId: command.migrationId, reason: String(command.reason ?? '') } }];
}
