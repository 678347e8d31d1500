import { CommanderError } from 'commander';
import { CliContext } from './cli-context';
import { describeFailure, EXIT, type ExitCode } from './exit-codes';
import { buildProgram } from './program';

/** Runs ioasidctl with `argv` (as process.argv) and resolves to its exit code; failures are one line on stderr. */
export async function main(argv: string[]): Promise<ExitCode> {
  let exitCode: ExitCode = EXIT.OK;
  const program = buildProgram(async (command) => {
    const ctx = CliContext.fromEnv();
    try {
      exitCode = await command(ctx);
    } finally {
      await ctx.close();
    }
  });
  try {
    await program.parseAsync(argv);
    return exitCode;
  } catch (e) {
    // --help and --version end through exitOverride too, with code 0 and their text printed.
    if (e instanceof CommanderError && e.exitCode === 0) return EXIT.OK;
    if (e instanceof CommanderError && e.code === 'commander.help') return EXIT.USAGE;
    const failure = describeFailure(e);
    // One line, whatever the message: scripts and people read the first line only.
    process.stderr.write(`ioasidctl: error: ${failure.message.replace(/\s*\n\s*/g, ' ')}\n`);
    return failure.exitCode;
  }
}

/** The entry of bin/ioasidctl.js. The exit code is set, not forced: stdout still drains into a pipe. */
export function run(): void {
  void main(process.argv).then((code) => {
    process.exitCode = code;
  });
}
