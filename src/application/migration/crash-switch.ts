import { Injectable } from '@nestjs/common';

/** The steps of a migration after which the process can be made to die (see CrashSwitch). */
export type MigrationStep = 'started' | 'imported';
const STEPS: readonly MigrationStep[] = ['started', 'imported'];

/**
 * TEST-ONLY fault injection: with `MIGRATION_CRASH_AFTER=started|imported` in its environment
 * the process kills itself with SIGKILL right after that step has committed, the way a power
 * cut or an OOM kill would, so the crash tests (test/migration/crash-recovery.test.ts) can check
 * that a restart finishes or rolls back the migration. Never set it in production. Any other
 * value is refused at start, so a typo cannot silently disable a crash test.
 */
@Injectable()
export class CrashSwitch {
  private readonly after: MigrationStep | undefined = stepOf(process.env.MIGRATION_CRASH_AFTER);

  /** Called after each step's commit. */
  reached(step: MigrationStep): void {
    if (this.after === step) process.kill(process.pid, 'SIGKILL');
  }
}

function stepOf(raw: string | undefined): MigrationStep | undefined {
  if (raw === undefined || raw === '') return undefined;
  if (!(STEPS as readonly string[]).includes(raw)) throw new Error(`MIGRATION_CRASH_AFTER must be one of ${STEPS.join(', ')}, got "${raw}"`);
  return raw as MigrationStep;
}
