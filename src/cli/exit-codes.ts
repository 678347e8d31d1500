import { CommanderError } from 'commander';
import { isDomainError } from '../model/errors';
import { MalformedSourceError } from '../replay/event-source';
import { SourceFileMissingError } from '../replay/file-source';
import { SourceUnavailableError } from '../replay/kafka-source';
import { ReplayTargetError, UnknownHostError } from '../replay/replay-errors';
import { isUnavailable, sqlState } from '../store/store-errors';

/** SQLSTATE undefined_table: the database is there but was never migrated. */
const UNDEFINED_TABLE = '42P01';

/** ioasidctl's exit codes (docs/REPLAY.md): scripts branch on these, so they never change meaning. */
export const EXIT = {
  OK: 0,
  /** The log or the live state is not what was written: broken chain, mismatch, unreadable event. */
  VERIFY_FAILED: 1,
  /** Bad command line: unknown option, bad version or time, missing setting. */
  USAGE: 2,
  /** Unknown host, version or time past the log, missing file. */
  NOT_FOUND: 3,
  /** The database or Kafka cannot be reached. */
  UNAVAILABLE: 4,
  /** Anything else: a bug. */
  INTERNAL: 5,
} as const;

export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

/** A failure whose message is already the one line to print. */
export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode: ExitCode,
  ) {
    super(message);
    this.name = 'CliError';
  }
}

/** The exit code and the message for any error a command lets escape. */
export function describeFailure(e: unknown): { exitCode: ExitCode; message: string } {
  const message = e instanceof Error ? e.message : String(e);
  if (e instanceof CliError) return { exitCode: e.exitCode, message };
  if (e instanceof CommanderError) return { exitCode: EXIT.USAGE, message: message.replace(/^error: /, '') };
  if (e instanceof UnknownHostError || e instanceof ReplayTargetError || e instanceof SourceFileMissingError) {
    return { exitCode: EXIT.NOT_FOUND, message };
  }
  if (e instanceof MalformedSourceError) return { exitCode: EXIT.VERIFY_FAILED, message };
  if (e instanceof SourceUnavailableError) return { exitCode: EXIT.UNAVAILABLE, message };
  if (isDomainError(e) && e.code === 'UNAVAILABLE') {
    const cause = (e.details as { cause?: string } | undefined)?.cause;
    return { exitCode: EXIT.UNAVAILABLE, message: `database unreachable${cause ? `: ${cause}` : ''}` };
  }
  if (isUnavailable(e)) return { exitCode: EXIT.UNAVAILABLE, message: `database unreachable: ${message}` };
  if (sqlState(e) === UNDEFINED_TABLE) {
    return { exitCode: EXIT.UNAVAILABLE, message: `the database has no IOASID Manager schema (${message}): start the server once, or run its migrations` };
  }
  return { exitCode: EXIT.INTERNAL, message: `internal error: ${e instanceof Error ? `${e.name}: ${message}` : message}` };
}
