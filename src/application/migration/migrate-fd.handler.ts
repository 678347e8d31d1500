import { CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import { IdempotentAnswers } from '../idempotent-answers';
import type { CommandResponse } from '../request-meta';
import { MigrateFdCommand } from './messages';
import { MigrationPreflight } from './migration-preflight';
import { MigrationProcess } from './migration-process';

/** POST /v1/fds/{fdId}/migrations (and gRPC MigrateFd): check everything, then run the migration. */
@CommandHandler(MigrateFdCommand)
export class MigrateFdHandler implements ICommandHandler<MigrateFdCommand, CommandResponse> {
  constructor(
    private readonly answers: IdempotentAnswers,
    private readonly preflight: MigrationPreflight,
    private readonly process: MigrationProcess,
  ) {}

  async execute(request: MigrateFdCommand): Promise<CommandResponse> {
    // A repeat of a completed migration answers as the first time; a refused one had no answer stored and runs again.
    const previous = await this.answers.previous(request.meta);
    if (previous) return previous;
    const plan = await this.preflight.check(request);
    return this.process.run(plan, request.meta);
  }
}
