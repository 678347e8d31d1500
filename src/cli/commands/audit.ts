import type { EventEnvelope } from '../../model/envelope';
import { MAX_PAGE_SIZE } from '../../store/event-reads';
import type { CliContext } from '../cli-context';
import { CliError, EXIT, type ExitCode } from '../exit-codes';
import { notice, printLines } from '../output';
import { textTable } from '../text-table';

export interface AuditOptions {
  host?: string;
  fd?: string;
  type?: string;
  since?: Date;
  json?: boolean;
}

/** `ioasidctl audit`: the event log in commit order, filtered; --json gives one envelope per line (NDJSON). */
export async function auditCommand(ctx: CliContext, o: AuditOptions): Promise<ExitCode> {
  if (o.host !== undefined && (await (await ctx.hosts()).headVersion(o.host)) === 0) {
    throw new CliError(`unknown host ${o.host}`, EXIT.NOT_FOUND);
  }
  const reads = await ctx.reads();
  let pageToken: string | undefined;
  let count = 0;
  do {
    const page = await reads.list({ hostId: o.host, fdId: o.fd, type: o.type, since: o.since, pageSize: MAX_PAGE_SIZE, pageToken });
    if (o.json) await printLines(page.events.map((e) => JSON.stringify(e)));
    else if (page.events.length > 0) await printLines(humanRows(page.events, count === 0));
    count += page.events.length;
    pageToken = page.nextPageToken;
  } while (pageToken);
  if (count === 0) notice('no events match');
  return EXIT.OK;
}

function humanRows(events: EventEnvelope[], withHeader: boolean): string[] {
  const rows = textTable(
    ['OCCURRED AT', 'HOST', 'VERSION', 'TYPE', 'FD', 'ACTOR', 'EVENT ID'],
    events.map((e) => [e.occurredAt, e.hostId, String(e.version), e.type, fdOf(e), e.actor, e.eventId]),
    '',
  );
  return withHeader ? rows : rows.slice(1);
}

function fdOf(e: EventEnvelope): string {
  const fdId = (e.data as { fdId?: unknown }).fdId;
  return typeof fdId === 'string' ? fdId : '-';
}
