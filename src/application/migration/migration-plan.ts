import type { CommandOf } from '../../model/commands';
import type { Rid } from '../../model/values';
import type { FdImage } from '../../model/views';

/** One migration as the process manager drives it; ids are chosen once, before the first step. */
export interface MigrationPlan {
  migrationId: string;
  /** The source fd. */
  fdId: string;
  /** The owner of the fd; the target fd belongs to it too. */
  tenantId: string;
  /** The calling tenant; absent for the operator and for the start-up recovery. */
  actorTenantId?: string;
  sourceHostId: string;
  targetHostId: string;
  /** The fd the import creates on the target. */
  targetFdId: string;
  deviceMap: Record<Rid, Rid>;
}

/** The host commands of each step, built in one place for the dry run and the real run alike. */

function sourceFd(plan: Pick<MigrationPlan, 'fdId' | 'actorTenantId'>): { fdId: string; actorTenantId?: string } {
  return plan.actorTenantId === undefined ? { fdId: plan.fdId } : { fdId: plan.fdId, actorTenantId: plan.actorTenantId };
}

export function startCommand(plan: MigrationPlan): CommandOf<'StartMigration'> {
  return { type: 'StartMigration', ...sourceFd(plan), migrationId: plan.migrationId, targetHostId: plan.targetHostId };
}

export function importCommand(plan: MigrationPlan, image: FdImage): CommandOf<'ImportFd'> {
  return {
    type: 'ImportFd',
    fdId: plan.targetFdId,
    tenantId: plan.tenantId,
    ...(plan.actorTenantId === undefined ? {} : { actorTenantId: plan.actorTenantId }),
    migrationId: plan.migrationId,
    sourceHostId: plan.sourceHostId,
    sourceFdId: plan.fdId,
    image,
    deviceMap: plan.deviceMap,
  };
}

/** What ending a migration needs: enough to rebuild from the read model after a restart. */
export type MigrationEnd = Pick<MigrationPlan, 'migrationId' | 'fdId' | 'actorTenantId' | 'sourceHostId' | 'targetHostId'> & { tenantId?: string };

/** Runs on the target host (HostCommandRunner.run's hostId): the fence before settling a migration. */
export function barCommand(end: MigrationEnd): CommandOf<'BarMigrationImport'> {
  return {
    type: 'BarMigrationImport',
    migrationId: end.migrationId,
    sourceHostId: end.sourceHostId,
    sourceFdId: end.fdId,
    ...(end.tenantId === undefined ? {} : { tenantId: end.tenantId }),
  };
}

export function completeCommand(end: MigrationEnd, targetFdId: string): CommandOf<'CompleteMigration'> {
  return { type: 'CompleteMigration', ...sourceFd(end), migrationId: end.migrationId, targetFdId };
}

export function abortCommand(end: MigrationEnd, reason: string): CommandOf<'AbortMigration'> {
  return { type: 'AbortMigration', ...sourceFd(end), migrationId: end.migrationId, reason };
}
