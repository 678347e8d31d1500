import { canonicalJson } from '../../model/canonical-json';
import type { CliContext } from '../cli-context';
import { CliError, EXIT, type ExitCode } from '../exit-codes';
import { AtomicFileWriter } from '../file-writer';
import { notice } from '../output';
import { progressBar } from '../progress';

export interface ExportOptions {
  host: string;
  out: string;
}

/**
 * `ioasidctl export`: a host's events from PostgreSQL as NDJSON, one envelope per line in
 * canonical JSON (the form its hash covers, which makes replaying the file fast), exactly as
 * stored: a broken log is exported as it is, and replaying the file shows where it breaks.
 */
export async function exportCommand(ctx: CliContext, o: ExportOptions): Promise<ExitCode> {
  const { source } = await ctx.postgres();
  const head = await source.headVersion(o.host);
  if (head === 0) throw new CliError(`unknown host ${o.host}`, EXIT.NOT_FOUND);
  const writer = await AtomicFileWriter.open(o.out);
  const progress = progressBar(`export ${o.host}`, head);
  let count = 0;
  let last = 0;
  try {
    for await (const batch of source.read(o.host, 0)) {
      await writer.write(batch.map(({ envelope }) => canonicalJson(envelope)).join('\n') + '\n');
      count += batch.length;
      last = batch[batch.length - 1]!.envelope.version;
      progress.update(last);
    }
    await writer.commit();
  } catch (e) {
    await writer.abandon();
    throw e;
  } finally {
    progress.stop();
  }
  notice(`exported ${count} events of host ${o.host} (last version ${last}) to ${o.out}`);
  return EXIT.OK;
}
