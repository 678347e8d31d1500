import { Injectable, Logger } from '@nestjs/common';
import type { HostCommand } from '../../domain/commands';
import { isDomainError } from '../../domain/errors';
import { exportFd, type FdImage } from '../../domain';
import { HostStates } from '../host-states';
import { RunHostCommand } from '../messages';
import type { CommandResponse, RequestMeta } from '../request-meta';
import { RunHostCommandHandler } from '../run-host-command.handler';
import { CrashSwitch } from './crash-switch';
import { MigrationRecords } from './migration-records';
import {
  abortCommand,
  completeCommand,
  importCommand,
  startCommand,
  type MigrationEnd,
  type MigrationPlan,
} from './migration-plan';

/**
 * The process manager of a migration across two host streams. Its progress is its events:
 * the source's MigrationStarted (fd frozen), the target's FdImported (fd live there), then
 * the source's FdMigratedOut (released) or MigrationAborted (unfrozen), all carrying the
 * migrationId. Each step is an ordinary host command (same lock, retries and store as any
 * write), so a process killed between two steps leaves a state that MigrationRecovery can
 * read and finish: the VM is never live on both hosts, nor on neither.
 *
 * Steps run through the RunHostCommand handler itself rather than the command bus, so that
 * the start-up recovery can use them before the bus has registered its handlers.
 */
@Injectable()
export class MigrationProcess {
  private readonly logger = new Logger(MigrationProcess.name);
  /** Migrations this process is running now: the recovery sweep never settles them under its feet. */
  private readonly inFlight = new Set<string>();

  constructor(
    private readonly hosts: RunHostCommandHandler,
    private readonly states: HostStates,
    private readonly records: MigrationRecords,
    private readonly crash: CrashSwitch,
  ) {}

  /** Freeze, import, complete; or, if the import is refused, unfreeze and rethrow its refusal. */
  async run(plan: MigrationPlan, meta: RequestMeta): Promise<CommandResponse> {
    this.inFlight.add(plan.migrationId);
    try {
      return await this.runSteps(plan, meta);
    } finally {
      this.inFlight.delete(plan.migrationId);
    }
  }

  isRunningHere(migrationId: string): boolean {
    return this.inFlight.has(migrationId);
  }

  private async runSteps(plan: MigrationPlan, meta: RequestMeta): Promise<CommandResponse> {
    const steps = stepMeta(meta);
    await this.step(startCommand(plan), steps, 200);
    this.crash.reached('started');
    try {
      await this.step(importCommand(plan, await this.frozenImage(plan)), steps, 201, plan.targetHostId);
    } catch (e) {
      if (!(await this.importCommitted(plan, e))) {
        await this.abort(plan, reasonOf(e), steps).catch((abortFailure: unknown) =>
          // The migration stays running, the target untouched: the recovery sweep aborts it once stale.
          this.logger.error(`migration ${plan.migrationId} could not be aborted now (${reasonOf(abortFailure)}); the recovery sweep will once it is stale`),
        );
        throw e;
      }
    }
    this.crash.reached('imported');
    return this.complete(plan, plan.targetFdId, meta);
  }

  /**
   * Releases the source once the target has committed. Its answer is the migration's answer,
   * stored with the request's Idempotency-Key in the same transaction as FdMigratedOut.
   */
  async complete(end: MigrationEnd, targetFdId: string, meta: RequestMeta): Promise<CommandResponse> {
    try {
      return await this.step(completeCommand(end, targetFdId), meta, 201);
    } catch (e) {
      await this.undoImportIfAborted(end, targetFdId, stepMeta(meta), e);
      throw e;
    }
  }

  /** Unfreezes the source: only for a migration whose import never committed. */
  async abort(end: MigrationEnd, reason: string, meta: RequestMeta): Promise<void> {
    await this.step(abortCommand(end, reason), stepMeta(meta), 200);
  }

  /**
   * Whether the import committed although its step failed. A refusal by the target's decider
   * appended nothing; a lost connection may have lost only the answer, so the target's stream
   * says. If even that cannot be read, the migration is left running for the recovery.
   */
  private async importCommitted(plan: MigrationPlan, failure: unknown): Promise<boolean> {
    if (isDomainError(failure) && failure.code !== 'UNAVAILABLE') return false;
    try {
      return (await this.records.importedFdOf(plan.targetHostId, plan.migrationId)) !== undefined;
    } catch {
      throw failure;
    }
  }

  /** The image of the frozen fd: nothing can change it any more until the migration ends. */
  private frozenImage(plan: MigrationPlan): Promise<FdImage> {
    return this.states.exclusive(plan.sourceHostId, async () => exportFd(await this.states.current(plan.sourceHostId), plan.fdId));
  }

  /**
   * Completion was refused: if another process (a replica's start-up recovery) aborted the
   * migration meanwhile, the source is live again, so the imported copy must go.
   */
  private async undoImportIfAborted(end: MigrationEnd, targetFdId: string, meta: RequestMeta, refusal: unknown): Promise<void> {
    if (!isDomainError(refusal) || refusal.code !== 'NOT_FOUND') return;
    const record = await this.records.find(end.migrationId);
    if (record?.state !== 'aborted') return;
    const closeTarget: HostCommand = { type: 'CloseFd', fdId: targetFdId, ...(end.actorTenantId === undefined ? {} : { actorTenantId: end.actorTenantId }) };
    await this.step(closeTarget, meta, 204);
    this.logger.warn(`migration ${end.migrationId} was aborted while importing: the imported fd ${targetFdId} was closed`);
  }

  private step(command: HostCommand, meta: RequestMeta, successStatus: number, hostId?: string): Promise<CommandResponse> {
    return this.hosts.execute(new RunHostCommand(command, meta, successStatus, hostId));
  }
}

/**
 * The steps before the last carry the request's ids (their events name the request that
 * caused them) but not its Idempotency-Key: the key answers for the whole migration.
 */
function stepMeta(meta: RequestMeta): RequestMeta {
  const { idempotencyKey: _key, ...rest } = meta;
  return rest;
}

/** What MigrationAborted records: the refusal's code and message. */
export function reasonOf(e: unknown): string {
  if (isDomainError(e)) return `${e.code}: ${e.message}`;
  return e instanceof Error ? e.message : String(e);
}
