import { Command, InvalidArgumentError, Option } from 'commander';
import { auditCommand } from './commands/audit';
import { exportCommand } from './commands/export';
import { replayCommand } from './commands/replay';
import type { CliContext } from './cli-context';
import { EVENT_TYPES } from './event-types';
import type { ExitCode } from './exit-codes';
import { parseIsoTime, parseNonEmpty, parseSource, parseVersion, type SourceSpec } from './options';

/** Runs one command with an open context and records its exit code. */
export type CommandRunner = (command: (ctx: CliContext) => Promise<ExitCode>) => Promise<void>;

const EXIT_CODES_HELP = `
Exit codes:
  0  success
  1  verification failed: broken hash chain, replay differs from the live projection, unreadable event
  2  usage: unknown option, bad version or time, missing setting
  3  not found: unknown host, version or time outside the log, missing file
  4  unavailable: the database or Kafka cannot be reached
  5  internal error

Environment (as the server): DATABASE_URL (unset: embedded database in DATA_DIR), DATA_DIR,
KAFKA_BROKERS, KAFKA_TOPIC.`;

/** ioasidctl's command line (API.md "The CLI"). Commander reports usage errors by throwing (exitOverride). */
export function buildProgram(run: CommandRunner): Command {
  const program = new Command('ioasidctl')
    .description('Replay, audit and export the event-sourced hardware state of IOASID Manager hosts')
    .exitOverride()
    .configureOutput({ outputError: () => undefined })
    .addHelpText('after', EXIT_CODES_HELP)
    .showSuggestionAfterError(true);

  program
    .command('replay')
    .description("rebuild a host's hardware from its events and print it with its hash")
    .requiredOption('--host <hostId>', 'the host', parseNonEmpty)
    .addOption(new Option('--to-version <n>', 'stop at this event version').argParser(parseVersion).conflicts(['at']))
    .addOption(new Option('--at <iso-time>', 'stop at the last event at or before this time').argParser(parseIsoTime))
    .addOption(
      new Option('--from <source>', 'where to read events: postgres, kafka or file:PATH')
        .argParser(parseSource)
        .default({ kind: 'postgres' } satisfies SourceSpec, 'postgres'),
    )
    .option('--json', 'print the hardware view (API.md) as one JSON line')
    .addOption(
      new Option('--verify', 'check the whole hash chain and compare with the live projection; exit 1 naming the first bad version').conflicts([
        'toVersion',
        'at',
      ]),
    )
    .action((o: { host: string; toVersion?: number; at?: Date; from: SourceSpec; json?: boolean; verify?: boolean }) =>
      run((ctx) => replayCommand(ctx, o)),
    );

  program
    .command('audit')
    .description('print the event log in commit order')
    .option('--host <hostId>', 'only this host', parseNonEmpty)
    .option('--fd <fdId>', 'only this fd', parseNonEmpty)
    .option('--type <type>', `only this event type (${EVENT_TYPES.join(', ')})`, parseEventType)
    .option('--since <iso-time>', 'only events at or after this time', parseIsoTime)
    .option('--json', 'one envelope per line (NDJSON)')
    .action((o: { host?: string; fd?: string; type?: string; since?: Date; json?: boolean }) => run((ctx) => auditCommand(ctx, o)));

  program
    .command('export')
    .description("write a host's events as NDJSON, for offline replay (replay --from file:PATH)")
    .requiredOption('--host <hostId>', 'the host', parseNonEmpty)
    .requiredOption('--out <file>', 'the file to write', parseNonEmpty)
    .action((o: { host: string; out: string }) => run((ctx) => exportCommand(ctx, o)));

  return program;
}

function parseEventType(raw: string): string {
  if (!(EVENT_TYPES as string[]).includes(raw)) throw new InvalidArgumentError(`unknown event type "${raw}" (known: ${EVENT_TYPES.join(', ')})`);
  return raw;
}
