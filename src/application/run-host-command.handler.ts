import { CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import { commandResult, decide, evolveAll } from '../domain';
import { isDomainError } from '../domain/errors';
import { commandDuration, commandRetries, versionConflicts } from '../observability/metrics';
import { addToContext } from '../observability/request-context';
import { IdempotencyKeyTaken } from '../store/append-request';
import { EventStore } from '../store/event-store';
import { CommandTargets, type CommandTarget } from './command-target';
import { decideAtHead } from './decide-at-head';
import { FdPreconditions } from './fd-precondition';
import { HostStates } from './host-states';
import { IdempotentAnswers, actorOf } from './idempotent-answers';
import { RunHostCommand } from './messages';
import type { CommandResponse } from './request-meta';
import { TenantQuotas } from './tenant-quotas';

/** Re-decisions after a version conflict before the caller gets VERSION_CONFLICT. */
export const MAX_CONFLICT_RETRIES = 5;

/**
 * The write path: resolve the host, take its lock, answer a repeated idempotent request from
 * its record, else decide on the cached state, compute the answer from the state after the
 * events, and append both with the expected version; on a conflict reload and decide again.
 */
@CommandHandler(RunHostCommand)
export class RunHostCommandHandler implements ICommandHandler<RunHostCommand, CommandResponse> {
  constructor(
    private readonly targets: CommandTargets,
    private readonly states: HostStates,
    private readonly events: EventStore,
    private readonly quotas: TenantQuotas,
    private readonly answers: IdempotentAnswers,
    private readonly preconditions: FdPreconditions,
  ) {}

  async execute(message: RunHostCommand): Promise<CommandResponse> {
    const stopTimer = commandDuration.startTimer({ command: message.command.type });
    addToContext(message.meta.context, { command: message.command.type });
    try {
      const target = await this.targets.resolve(message.command, message.hostId);
      addToContext(message.meta.context, { host: target.hostId });
      const response = await this.states.exclusive(target.hostId, () => this.runLocked(message, target));
      stopTimer({ outcome: 'ok' });
      return response;
    } catch (e) {
      stopTimer({ outcome: isDomainError(e) ? e.code : 'error' });
      throw e;
    }
  }

  private async runLocked(message: RunHostCommand, target: CommandTarget): Promise<CommandResponse> {
    const { command, meta, successStatus } = message;
    const previous = await this.answers.previous(meta);
    if (previous) return previous;

    for (let attempt = 0; ; attempt++) {
      const { state, events } = await decideAtHead(this.states, target.hostId, async (at) => {
        await this.preconditions.check(target.hostId, command, meta.expectedFdVersion, at.version);
        return decide(command, at, { quotasFor: (tenantId) => this.quotas.quotasFor(tenantId) });
      });
      const versionBefore = state.version;
      // evolve mutates the cached state: from here until the commit, a failure must discard it.
      try {
        const stateAfter = evolveAll(state, events);
        const response: CommandResponse = { status: successStatus, body: commandResult(command, events, stateAfter) };
        await this.events.append({
          hostId: target.hostId,
          expectedVersion: versionBefore,
          events,
          tenantId: target.tenantId,
          actor: actorOf(meta.principal),
          commandId: meta.commandId,
          correlationId: meta.correlationId,
          idempotency: this.answers.recordOf(meta, response),
        });
        this.states.committed(target.hostId, stateAfter, versionBefore);
        return response;
      } catch (e) {
        this.states.discard(target.hostId);
        if (e instanceof IdempotencyKeyTaken) {
          const answer = await this.answers.previous(meta);
          if (answer) return answer;
        }
        if (!isDomainError(e) || e.code !== 'VERSION_CONFLICT') throw e;
        versionConflicts.inc();
        if (attempt >= MAX_CONFLICT_RETRIES) throw e;
        commandRetries.inc();
      }
    }
  }
}
