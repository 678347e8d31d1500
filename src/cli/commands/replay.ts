import { hardwareAt } from '../../replay/state-at';
import { verifyHost, type VerifyReport } from '../../replay/verify';
import type { CliContext } from '../cli-context';
import { CliError, EXIT, type ExitCode } from '../exit-codes';
import type { SourceSpec } from '../options';
import { notice, printLines } from '../output';
import { progressBar } from '../progress';
import { renderHardware } from '../render-hardware';

export interface ReplayOptions {
  host: string;
  toVersion?: number;
  at?: Date;
  from: SourceSpec;
  json?: boolean;
  verify?: boolean;
}

/** `ioasidctl replay`: the host's hardware rebuilt from its events, now, at a version or at a time. */
export async function replayCommand(ctx: CliContext, o: ReplayOptions): Promise<ExitCode> {
  if (o.verify) return verifyCommand(ctx, o);
  // From the database, the replay can start from a snapshot and find a time by its index.
  const postgres = o.from.kind === 'postgres' ? await ctx.postgres() : undefined;
  const source = postgres?.source ?? (await ctx.source(o.from));
  const progress = progressBar(`replay ${o.host}`, o.toVersion ?? (await source.headVersion?.(o.host)));
  const outcome = await hardwareAt(source, o.host, { toVersion: o.toVersion, at: o.at }, { shortcuts: postgres?.shortcuts, onProgress: progress.update }).finally(() =>
    progress.stop(),
  );
  if (outcome.problem) {
    const { version, reason } = outcome.problem;
    const before = version > 1 ? ` (--to-version ${version - 1} shows the state before it)` : '';
    throw new CliError(`the event log of host ${o.host} in ${source.name} is broken at version ${version}: ${reason}${before}`, EXIT.VERIFY_FAILED);
  }
  if (outcome.head.version === 0) throw new CliError(`host ${o.host} has no event at or before ${o.at?.toISOString()}`, EXIT.NOT_FOUND);
  const view = outcome.hardware.view();
  if (o.json) await printLines([JSON.stringify(view)]);
  else await printLines(renderHardware({ view, hostId: o.host, occurredAt: outcome.occurredAt, source: source.name, startedAfter: outcome.startedAfter }));
  return EXIT.OK;
}

/** `ioasidctl replay --verify`: the full chain from version 1 and the replay against the live projection. */
async function verifyCommand(ctx: CliContext, o: ReplayOptions): Promise<ExitCode> {
  const source = await ctx.source(o.from);
  const projected = await (await ctx.projections()).get(o.host);
  const live = projected ? [{ name: 'the live projection', version: projected.version, hash: projected.hash }] : [];
  const progress = progressBar(`verify ${o.host}`, (await source.headVersion?.(o.host)) ?? projected?.version);
  const report = await verifyHost(source, o.host, { live, onProgress: progress.update }).finally(() => progress.stop());
  const view = report.hardware.view();
  if (o.json) {
    await printLines([JSON.stringify({ ...view, verify: verdict(report) })]);
  } else {
    const state = report.ok ? renderHardware({ view, hostId: o.host, source: source.name, startedAfter: 0 }) : [];
    await printLines([...state, ...(state.length ? [''] : []), ...verdictLines(report, source.name)]);
  }
  if (report.ok) return EXIT.OK;
  notice(`verification failed: first bad version ${report.firstBadVersion}: ${report.reason}`);
  return EXIT.VERIFY_FAILED;
}

/** The verification part of the --json line (the view beside it already names the host). */
function verdict({ hardware: _hardware, hostId: _hostId, ...rest }: VerifyReport): Omit<VerifyReport, 'hardware' | 'hostId'> {
  return rest;
}

function verdictLines(report: VerifyReport, source: string): string[] {
  const live = report.compared.length
    ? report.compared.map((l) => `${l.name} at version ${l.version} (hash ${l.hash})`).join(' and ')
    : 'no live projection (the projector has not stored this host)';
  if (report.ok) {
    return [`Verification: OK: the hash chain in ${source} is intact from version 1 to ${report.version}; compared with ${live}`];
  }
  return [`Verification: FAILED at version ${report.firstBadVersion}: ${report.reason}`, `Compared with ${live}`];
}
