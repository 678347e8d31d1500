import { Injectable } from '@nestjs/common';
import { IdempotentAnswers } from '../idempotent-answers';
import type { RequestMeta } from '../request-meta';
import type { MigrationRequest } from './messages';
import { MigrationPreflight } from './migration-preflight';
import { MigrationProcess } from './migration-process';

/**
 * Migrates an fd to another host, all or nothing: checks everything, then runs the migration.
 * Answers `{migrationId, state: "completed", targetFdId}`, or throws the DomainError that
 * stopped it with nothing changed anywhere. Honours `meta.idempotency` like every write.
 */
@Injectable()
export class FdMigrator {
  constructor(
    private readonly answers: IdempotentAnswers,
    private readonly preflight: MigrationPreflight,
    private readonly process: MigrationProcess,
  ) {}

  async migrate(request: MigrationRequest, meta: RequestMeta): Promise<unknown> {
    // A repeat of a completed migration answers as the first time; a refused one had no answer stored and runs again.
    const previous = await this.answers.previous(meta);
    if (previous) return previous.body;
    const plan = await this.preflight.check(request, meta);
    return this.process.run(plan, meta);
  }
}
