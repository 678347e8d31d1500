import { Injectable, Logger } from '@nestjs/common';
import type { HostCommand } from '../../model/commands';
import { DomainError, isDomainError } from '../../model/errors';
import type { FdImage } from '../../model';
import { exportFd } from '../../domain';
import { HostStates } from '../host-states';
import { IdempotentAnswers } from '../idempotent-answers';
import { HostCommandRunner } from '../host-command-runner';
import type { RequestMeta } from '../request-meta';
import { CrashSwitch } from './crash-switch';
import type { MigrationState } from '../../model/views';
import { MigrationRecords, type OwnedMigration } from './migration-records';
import {
  abortCommand,
  barCommand,
  completeCommand,
  importCommand,
  startCommand,
  type MigrationEnd,
  type MigrationPlan,
} from './migration-plan';

/** How `settle` ended a migration. */
export type Settlement =
  | { state: 'completed'; targetFdId: string; answer: unknown }
  /** `byAnother`: the source had already been unfrozen by another process (with its `reason`). */
  | { state: 'aborted'; reason: string; byAnother: boolean };

/**
 * The process manager of a migration across two host streams. Its progress is its events:
 * the source's MigrationStarted (fd frozen), the target's FdImported (fd live there), then
 * the source's FdMigratedOut (released) or MigrationAborted (unfrozen), all carrying the
 * migrationId. Each step is an ordinary host command (same lock, retries and store as any
 * write), so a process killed between two steps leaves a state that MigrationRecovery can
 * read and finish.
 *
 * A migration whose import may still commit (this process lost the answer, or another
 * process may be stalled before it) is never aborted directly: it is settled through the
 * target's fence (`settle`), so the VM is never live on both hosts, nor on neither, whatever
 * the timing of the processes involved.
 *
 * Steps run through the HostCommandRunner, the write path of every host command.
 */
@Injectable()
export class MigrationProcess {
  private readonly logger = new Logger(MigrationProcess.name);
  /** Migrations this process is running now: the recovery sweep never settles them under its feet. */
  private readonly inFlight = new Set<string>();

  constructor(
    private readonly hosts: HostCommandRunner,
    private readonly states: HostStates,
    private readonly records: MigrationRecords,
    private readonly crash: CrashSwitch,
    private readonly answers: IdempotentAnswers,
  ) {}

  /** Freeze, import, complete; or, if the import is refused, unfreeze and rethrow its refusal. */
  async run(plan: MigrationPlan, meta: RequestMeta): Promise<unknown> {
    this.inFlight.add(plan.migrationId);
    // If-Match holds for the freeze only: the steps after it change the fd themselves.
    const { expectedFdVersion, ...unconditional } = meta;
    try {
      return await this.runSteps(plan, unconditional, expectedFdVersion);
    } finally {
      this.inFlight.delete(plan.migrationId);
    }
  }

  isRunningHere(migrationId: string): boolean {
    return this.inFlight.has(migrationId);
  }

  private async runSteps(plan: MigrationPlan, meta: RequestMeta, expectedFdVersion: number | undefined): Promise<unknown> {
    const steps = stepMeta(meta);
    await this.step(startCommand(plan), expectedFdVersion === undefined ? steps : { ...steps, expectedFdVersion });
    this.crash.reached('started');
    try {
      await this.step(importCommand(plan, await this.frozenImage(plan)), steps, plan.targetHostId);
    } catch (e) {
      return this.afterFailedImport(plan, e, meta);
    }
    this.crash.reached('imported');
    return this.complete(plan, plan.targetFdId, meta);
  }

  /**
   * A refusal of the target's own (a device taken, a quota) imported nothing, and this process
   * never sends the import again: the source is simply unfrozen. Any other failure leaves the
   * import's fate open (a lost connection may have lost only the answer), and VERSION_CONFLICT
   * may mean another process barred it first: those are settled through the fence.
   */
  private async afterFailedImport(plan: MigrationPlan, failure: unknown, meta: RequestMeta): Promise<unknown> {
    if (isDomainError(failure) && failure.code !== 'UNAVAILABLE' && failure.code !== 'VERSION_CONFLICT') {
      await this.unfreeze(plan, reasonOf(failure), meta).catch((abortFailure: unknown) => this.leftRunning(plan, abortFailure, meta));
      throw failure;
    }
    let settled: Settlement;
    try {
      settled = await this.settle(plan, reasonOf(failure), meta);
    } catch (settleFailure) {
      this.leftRunning(plan, settleFailure, meta);
      throw failure;
    }
    if (settled.state === 'completed') return settled.answer;
    if (!settled.byAnother) throw failure;
    throw new DomainError(
      'VERSION_CONFLICT',
      `migration ${plan.migrationId} was aborted by another process while this one was stalled (${settled.reason}): fd ${plan.fdId} stays on host ${plan.sourceHostId}`,
      { migrationId: plan.migrationId, state: 'aborted' },
    );
  }

  /** The migration stays running, its import barred or not: the recovery sweep settles it once it is stale. */
  private leftRunning(plan: MigrationPlan, failure: unknown, meta: RequestMeta): void {
    const msg = `migration ${plan.migrationId} could not be settled now (${reasonOf(failure)}); the recovery sweep will once it is stale`;
    this.logger.error({ msg, ...meta.context });
  }

  /**
   * Ends a migration whose import may still be on its way, from a stalled process or a lost
   * answer: first bars the import on the target, then unfreezes the source. If the target has
   * imported already, the bar is refused and the migration completes instead. Exactly one of
   * the import and the bar commits on the target's stream, so no timing can leave the VM live
   * on both hosts. Safe to repeat after a failure at any point.
   */
  async settle(end: MigrationEnd, reason: string, meta: RequestMeta): Promise<Settlement> {
    const importedFdId = await this.barImport(end, stepMeta(meta));
    if (importedFdId !== undefined) return { state: 'completed', targetFdId: importedFdId, answer: await this.complete(end, importedFdId, meta) };
    return this.unfreeze(end, reason, meta);
  }

  /** Bars the migration's import on its target: undefined once barred, or the fd the import already created. */
  private async barImport(end: MigrationEnd, meta: RequestMeta): Promise<string | undefined> {
    try {
      await this.step(barCommand(end), meta, end.targetHostId);
      return undefined;
    } catch (e) {
      if (isDomainError(e) && e.code === 'ALREADY_EXISTS' && typeof e.details?.fdId === 'string') return e.details.fdId;
      throw e;
    }
  }

  /**
   * Releases the source once the target has committed. Its answer is the migration's answer,
   * stored with the request's Idempotency-Key in the same transaction as FdMigratedOut. If
   * another process (a replica's recovery) completed the migration first, with this same
   * import, that is this migration's success too.
   */
  async complete(end: MigrationEnd, targetFdId: string, meta: RequestMeta): Promise<unknown> {
    try {
      return await this.step(completeCommand(end, targetFdId), meta);
    } catch (e) {
      const record = await this.endedBy(e, end.migrationId, 'completed');
      if (record.targetFdId !== targetFdId) throw e;
      // The answer CompleteMigration gives (commandResult in src/domain/views.ts), kept for the request's key.
      return this.answers.remember(end.sourceHostId, meta, { migrationId: end.migrationId, state: 'completed', targetFdId });
    }
  }

  /**
   * A source step refused NOT_FOUND because the migration is no longer in progress there:
   * the record if another process ended it as `expected`; otherwise the refusal stands.
   */
  private async endedBy(refusal: unknown, migrationId: string, expected: MigrationState): Promise<OwnedMigration> {
    if (!isDomainError(refusal) || refusal.code !== 'NOT_FOUND') throw refusal;
    const record = await this.records.find(migrationId);
    if (record?.state !== expected) throw refusal;
    return record;
  }

  /**
   * Unfreezes the source: only for a migration whose import never committed and never will
   * (refused, or barred). Another process may have unfrozen it already: the same outcome.
   */
  private async unfreeze(end: MigrationEnd, reason: string, meta: RequestMeta): Promise<Settlement> {
    try {
      await this.step(abortCommand(end, reason), stepMeta(meta));
      return { state: 'aborted', reason, byAnother: false };
    } catch (e) {
      const record = await this.endedBy(e, end.migrationId, 'aborted');
      return { state: 'aborted', reason: record.reason ?? '', byAnother: true };
    }
  }

  /** The image of the frozen fd: nothing can change it any more until the migration ends. */
  private frozenImage(plan: MigrationPlan): Promise<FdImage> {
    return this.states.exclusive(plan.sourceHostId, async () => exportFd(await this.states.current(plan.sourceHostId), plan.fdId));
  }

  private step(command: HostCommand, meta: RequestMeta, hostId?: string): Promise<unknown> {
    return this.hosts.run(command, meta, hostId);
  }
}

/**
 * The steps before the last carry the request's ids (their events name the request that
 * caused them) but not its Idempotency-Key: the key answers for the whole migration.
 */
function stepMeta(meta: RequestMeta): RequestMeta {
  const { idempotency: _key, ...rest } = meta;
  return rest;
}

/** What MigrationAborted records: the refusal's code and message. */
export function reasonOf(e: unknown): string {
  if (isDomainError(e)) return `${e.code}: ${e.message}`;
  return e instanceof Error ? e.message : String(e);
}
