import type { EntryDiff, HardwareDiff } from '../diff';
import type { FdFacts } from '../history';
import { Link } from '../route';
import type { EntryView, HardwareView, PasidRange } from '../types';
import { TableHead } from './table-head';

const WIDTH = 1000;

/** Reserved PASIDs as inclusive [first, last] ranges. */
export function reservedRanges(reserved: PasidRange[]): Array<[number, number]> {
  return reserved.map((r) => [r.from, r.from + r.count - 1]);
}

/**
 * One RID's PASID space [0, 2^bits) on a log scale (so PASID 5 and PASID 1048575 both show):
 * a mark per programmed entry coloured by origin, reserved ranges shaded, and a dashed line at
 * each fd's local/global split.
 */
function SpacePicture(props: { rid: string; bits: number; entries: Array<[number, EntryView]>; splits: FdFacts[]; reserved: Array<[number, number]> }) {
  const { rid, bits, entries, splits, reserved } = props;
  const x = (p: number) => (Math.log2(p + 1) / bits) * WIDTH;
  const ticks = [0, 4, 8, 12, 16, 20].filter((b) => b <= bits);
  const label = `PASID space of ${rid}: ${entries.length} programmed (${entries.map(([p, e]) => `${p} ${e.origin}`).join(', ') || 'none'})${
    splits.length ? `; splits at ${splits.map((s) => s.globalMin).join(', ')}` : ''
  }`;
  return (
    <svg class="space" viewBox={`0 0 ${WIDTH} 46`} preserveAspectRatio="none" role="img" aria-label={label}>
      <rect class="free" x={0} y={4} width={WIDTH} height={22} />
      {reserved.map(([a, b]) => (
        <rect class="reserved" x={x(a)} y={4} width={Math.max(2, x(b + 1) - x(a))} height={22}>
          <title>
            reserved {a}–{b}
          </title>
        </rect>
      ))}
      {splits.map((s) => (
        <line class="split" x1={x(s.globalMin!)} x2={x(s.globalMin!)} y1={0} y2={30}>
          <title>
            fd {s.fdId}: local below {s.globalMin}, global from {s.globalMin}
          </title>
        </line>
      ))}
      {entries.map(([pasid, e]) => (
        <rect class={`mark ${e.origin}`} x={Math.min(WIDTH - 3, x(pasid))} y={4} width={3} height={22}>
          <title>
            PASID {pasid}: {e.origin}, fd {e.fdId}
          </title>
        </rect>
      ))}
      {ticks.map((b) => (
        <text class="tick" x={Math.min(WIDTH - 2, x(2 ** b - 1) + 2)} y={42} text-anchor={b === bits ? 'end' : 'start'}>
          {b === 0 ? '0' : `2^${b}`}
        </text>
      ))}
    </svg>
  );
}

const DIFF_WORDS: Record<EntryDiff | 'added', string> = {
  same: 'unchanged',
  changed: 'changed since',
  removed: 'gone by now',
  added: 'added since',
};

/** A RID's context, its PASID space picture and its programmed entries. */
export function RidMap(props: {
  rid: string;
  kind: string;
  bits: number;
  view: HardwareView['rids'][string];
  fds: Map<string, FdFacts>;
  reserved: Array<[number, number]>;
  diff?: HardwareDiff;
}) {
  const { rid, kind, bits, view, fds, reserved, diff } = props;
  const entries = Object.entries(view.pasids)
    .map(([p, e]) => [Number(p), e] as [number, EntryView])
    .sort((a, b) => a[0] - b[0]);
  const splits = [...new Set(entries.map(([, e]) => e.fdId))].map((id) => fds.get(id)).filter((f): f is FdFacts => f?.globalMin !== undefined);
  const added = diff?.added.get(rid) ?? [];
  const headingId = `rid-${rid.replace(/[^A-Za-z0-9]/g, '-')}`;
  const reservedHere = reserved.reduce((n, [a, b]) => n + Math.max(0, Math.min(b, 2 ** bits - 1) - a + 1), 0);
  return (
    <section class="rid" aria-labelledby={headingId} data-rid-section={rid}>
      <h3 id={headingId}>
        <code>{rid}</code> <span class="small">{kind}, {bits}-bit PASIDs, context: {view.context.table === 'guest' ? `guest PASID table at ${view.context.gpa}` : 'host PASID table'}</span>
      </h3>
      <SpacePicture rid={rid} bits={bits} entries={entries} splits={splits} reserved={reserved} />
      <p class="small counts">
        used {entries.length} · free {2 ** bits - entries.length - reservedHere}
        {reserved.length > 0 && <> · reserved {reservedHere}</>}
        {splits.map((s) => (
          <>
            {' '}
            · fd <code>{short(s.fdId)}</code>: local &lt; {s.globalMin} ≤ global
          </>
        ))}
      </p>
      <div class="scroll">
        <table class="entries">
          <caption class="sr-only">Programmed PASID entries of {rid}</caption>
          <TableHead columns={['PASID', 'Owner fd', 'Tenant', 'ioasid', 'Origin', 'First-stage GPA', 'Domain id', diff && 'Compared with now']} />
          <tbody>
            {entries.length === 0 && added.length === 0 && (
              <tr>
                <td colSpan={diff ? 8 : 7}>No entry programmed.</td>
              </tr>
            )}
            {entries.map(([pasid, e]) => {
              const d = diff?.entries.get(`${rid}/${pasid}`);
              return (
                <tr key={pasid} data-rid={rid} data-pasid={pasid} data-owner-fd={e.fdId} data-diff={d} class={d ? `diff-${d}` : undefined}>
                  <EntryCells pasid={pasid} e={e} fds={fds} />
                  {diff && <td>{DIFF_WORDS[d ?? 'same']}</td>}
                </tr>
              );
            })}
            {added.map(([pasid, e]) => (
              <tr key={`added-${pasid}`} data-diff="added" data-now-pasid={pasid} class="diff-added">
                <EntryCells pasid={pasid} e={e} fds={fds} />
                <td>{DIFF_WORDS.added}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </section>
  );
}

function EntryCells({ pasid, e, fds }: { pasid: number; e: EntryView; fds: Map<string, FdFacts> }) {
  const fd = fds.get(e.fdId);
  return (
    <>
      <th scope="row" class="num">
        {pasid}
      </th>
      <td>
        <Link to={`/fds/${encodeURIComponent(e.fdId)}`} aria-label={`fd ${e.fdId}`}>
          <code>{short(e.fdId)}</code>
        </Link>
        {fd?.vmId && <span class="small"> {fd.vmId}</span>}
      </td>
      <td>
        <code title={fd?.tenantId}>{fd ? short(fd.tenantId) : '—'}</code>
      </td>
      <td class="num">{e.ioasid}</td>
      <td>
        <span class={`origin ${e.origin}`}>{e.origin}</span>
      </td>
      <td>
        <code>{e.firstStageGpa ?? '—'}</code>
      </td>
      <td class="num">{e.domainId}</td>
    </>
  );
}

export const short = (id: string) => (id.length > 13 ? `${id.slice(0, 8)}…` : id);
