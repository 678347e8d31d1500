import type { CommandOf } from '../../model/commands';
import type { HostEvent } from '../../model/events';
import type { HostState } from '../state';
import { fail, requireHost } from './guards';

/**
 * The fence of a migration on its target host. Whoever settles a stalled migration (the
 * recovery sweep, or the process itself after an import whose outcome it cannot know) first
 * bars its import here, and only then unfreezes the source. The target's stream serializes
 * the bar and the import: if the import came first, the bar is refused (ALREADY_EXISTS) and
 * the migration must be completed instead; if the bar came first, the import is refused
 * forever. So the VM is never live on both hosts, however late a stalled process wakes up.
 */
export function barMigrationImport(command: CommandOf<'BarMigrationImport'>, state: HostState): HostEvent[] {
  const host = requireHost(state);
  // A decommissioned host never imports again: the bar already holds, and its stream stays closed.
  if (host.decommissioned) return [];
  const { migrationId } = command;
  const imported = [...state.fds.values()].find((fd) => fd.importedBy === migrationId);
  // Only an open import counts: if its fd was closed since, completing would leave the VM nowhere.
  if (imported) {
    fail('ALREADY_EXISTS', `migration ${migrationId} is already imported here as fd ${imported.fdId}: complete it`, {
      migrationId,
      fdId: imported.fdId,
    });
  }
  // Barring twice (a settler that died between the bar and the abort, then retried) decides nothing new.
  if (state.barredImports.has(migrationId)) return [];
  return [{ type: 'MigrationImportBarred', data: { migrationId, sourceHostId: command.sourceHostId, sourceFdId: command.sourceFdId } }];
}

/** An ImportFd of a barred migration: another process settled the migration without it, first. */
export function requireImportNotBarred(state: HostState, migrationId: string): void {
  if (state.barredImports.has(migrationId)) {
    fail('VERSION_CONFLICT', `migration ${migrationId} was settled without this import by another process: its import is barred on this host`, { migrationId });
  }
}
