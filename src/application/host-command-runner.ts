import { Injectable } from '@nestjs/common';
import type { HostCommand } from '../model/commands';
import { commandResult, decide, evolveAll } from '../domain';
import { isDomainError } from '../model/errors';
import { commandDuration, commandRetries, versionConflicts } from '../observability/metrics';
import { addToContext } from '../observability/request-context';
import { IdempotencyKeyTaken } from '../store/append-request';
import { EventStore } from '../store/event-store';
import { CommandTargets, type CommandTarget } from './command-target';
import { decideAtHead } from './decide-at-head';
import { FdPreconditions } from './fd-precondition';
import { HostStates } from './host-states';
import { IdempotentAnswers, actorOf } from './idempotent-answers';
import type { RequestMeta } from './request-meta';

/** Re-decisions after a version conflict before the caller gets VERSION_CONFLICT. */
export const MAX_CONFLICT_RETRIES = 5;

/**
 * The pause before re-decision `attempt` (1-based): none for the first, which only catches up
 * with another replica's commit; then random, up to 2, 4, 8, 16 ms, so that writers racing
 * for one host's versions on several replicas stop colliding in step.
 */
function conflictBackoffMs(attempt: number): number {
  return attempt <= 1 ? 0 : Math.random() * 2 ** (attempt - 1);
}

/**
 * The write path of every host command, whoever sends it (the REST and gRPC operations, the
 * migration process and its recovery): resolve the host, take its lock, answer a repeated
 * idempotent request from its record, else decide on the cached state, compute the answer
 * from the state after the events, and append both with the expected version; on a conflict
 * reload and decide again. Injected rather than dispatched on a bus, so the migration
 * recovery can run steps before anything else has started.
 */
@Injectable()
export class HostCommandRunner {
  constructor(
    private readonly targets: CommandTargets,
    private readonly states: HostStates,
    private readonly events: EventStore,
    private readonly answers: IdempotentAnswers,
    private readonly preconditions: FdPreconditions,
  ) {}

  /**
   * Runs `command` and answers its result body (undefined: none). `hostId` is the host the
   * command runs on when the command itself does not say: required for CreateFd, ImportFd and
   * BarMigrationImport; RegisterHost uses its own `hostId`; fd-scoped commands find their host
   * in the fd directory. With an idempotency key the answer is stored in the same transaction.
   */
  async run(command: HostCommand, meta: RequestMeta, hostId?: string): Promise<unknown> {
    const stopTimer = commandDuration.startTimer({ command: command.type });
    addToContext(meta.context, { command: command.type });
    try {
      const target = await this.targets.resolve(command, hostId);
      addToContext(meta.context, { host: target.hostId });
      const response = await this.states.exclusive(target.hostId, () => this.runLocked(command, meta, target));
      stopTimer({ outcome: 'ok' });
      return response;
    } catch (e) {
      stopTimer({ outcome: isDomainError(e) ? e.code : 'error' });
      throw e;
    }
  }

  private async runLocked(command: HostCommand, meta: RequestMeta, target: CommandTarget): Promise<unknown> {
    const previous = await this.answers.previous(meta);
    if (previous) return previous.body;

    for (let attempt = 0; ; attempt++) {
      const { state, events } = await decideAtHead(this.states, target.hostId, async (at) => {
        await this.preconditions.check(target.hostId, command, meta.expectedFdVersion, at.version);
        return decide(command, at, target.decideContext);
      });
      const versionBefore = state.version;
      const hostBefore = state.host;
      // evolve mutates the cached state: from here until the commit, a failure must discard it.
      try {
        const stateAfter = evolveAll(state, events);
        // evolve replaces the host whenever an event changes it (HostState.host): the hosts table then takes the new one.
        const host = stateAfter.host !== hostBefore ? stateAfter.host ?? undefined : undefined;
        const body = commandResult(command, events, stateAfter);
        await this.events.append({
          hostId: target.hostId,
          expectedVersion: versionBefore,
          events,
          tenantId: target.tenantId,
          actor: actorOf(meta.principal),
          commandId: meta.commandId,
          correlationId: meta.correlationId,
          idempotency: this.answers.recordOf(meta, body),
          ...(host ? { host } : {}),
        });
        this.states.committed(target.hostId, stateAfter, versionBefore);
        return body;
      } catch (e) {
        this.states.discard(target.hostId);
        if (e instanceof IdempotencyKeyTaken) {
          const answer = await this.answers.previous(meta);
          if (answer) return answer.body;
        }
        if (!isDomainError(e) || e.code !== 'VERSION_CONFLICT') throw e;
        versionConflicts.inc();
        if (attempt >= MAX_CONFLICT_RETRIES) throw e;
        commandRetries.inc();
        const pause = conflictBackoffMs(attempt + 1);
        if (pause > 0) await new Promise((resolve) => setTimeout(resolve, pause));
      }
    }
  }
}
