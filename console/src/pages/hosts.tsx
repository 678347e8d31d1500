import { useState } from 'preact/hooks';
import { api } from '../api';
import { Loading, Problem } from '../components/problem';
import { useLoad } from '../load';
import { loadPage, type Cursor } from '../paging';
import { Link } from '../route';
import type { HardwareView, HostView } from '../types';
import { TableHead } from '../components/table-head';
import { hostState } from '../host-state';

const PAGE_SIZE = 20;

interface HostRow {
  host: HostView;
  allocator: HardwareView['allocator'];
}

/** The operator's fleet, a page at a time: capabilities, PASIDs in use and allocator fill. */
export function HostsPage() {
  // The cursors of the pages before this one, to go back.
  const [trail, setTrail] = useState<Cursor[]>([]);
  const [cursor, setCursor] = useState<Cursor>({ offset: 0 });
  const page = useLoad(async () => {
    const { items, next } = await loadPage(async (q) => {
      const { hosts, nextPageToken } = await api.hosts(q);
      return { items: hosts, nextPageToken };
    }, cursor, PAGE_SIZE);
    // The allocator of the hosts on this page only: an operator read, so the first host alone
    // first (a tenant's 403 then stops the page at one refused request).
    const row = async (host: HostView): Promise<HostRow> => ({ host, allocator: (await api.hardware(host.hostId)).allocator });
    const rows = items.length === 0 ? [] : [await row(items[0]), ...(await Promise.all(items.slice(1).map(row)))];
    return { rows, next };
  }, [cursor.pageToken, cursor.offset]);

  return (
    <main id="content" tabIndex={-1}>
      <h1>Hosts</h1>
      {page.error !== undefined && <Problem error={page.error} />}
      {page.error === undefined && !page.data && <Loading what="hosts" />}
      {page.data && page.error === undefined && (
        <>
          {page.data.rows.length === 0 ? (
            <p>No host is registered yet.</p>
          ) : (
            <div class="scroll">
              <table class="hosts">
                <caption class="sr-only">Registered hosts</caption>
                <TableHead columns={['Host', 'PASID bits', 'ENQCMD', 'Nested PASID table', 'Devices', 'PASIDs in use', 'Allocator fill', 'Version', 'State']} />
                <tbody>
                  {page.data.rows.map(({ host, allocator }) => {
                    const total = allocator.used + allocator.free;
                    const fill = total === 0 ? 0 : allocator.used / total;
                    return (
                      <tr key={host.hostId} data-host-id={host.hostId} data-state={hostState(host)}>
                        <th scope="row">
                          <Link to={`/hosts/${encodeURIComponent(host.hostId)}`}>{host.hostId}</Link>
                        </th>
                        <td>{host.pasidBits}</td>
                        <td>{host.enqcmd ? 'yes' : 'no'}</td>
                        <td>{host.nestedPasidTable ? 'yes' : 'no'}</td>
                        <td>
                          {host.devices.length} ({host.devices.filter((d) => d.kind === 'vf').length} vf, {host.devices.filter((d) => d.kind === 'siov').length}{' '}
                          siov)
                        </td>
                        <td class="num">{allocator.used}</td>
                        <td>
                          <meter min={0} max={1} value={fill} aria-label={`allocator of ${host.hostId}: ${allocator.used} used of ${total}`} />{' '}
                          <span class="small">{formatFill(fill)}</span>
                        </td>
                        <td class="num">{host.version}</td>
                        <td>{hostState(host)}</td>
                      </tr>
                    );
                  })}
                </tbody>
              </table>
            </div>
          )}
          <nav class="pager" aria-label="Pages of hosts">
            <button
              type="button"
              disabled={trail.length === 0}
              onClick={() => {
                setCursor(trail[trail.length - 1]);
                setTrail(trail.slice(0, -1));
              }}
            >
              Previous page
            </button>
            <span>Page {trail.length + 1}</span>
            <button
              type="button"
              disabled={!page.data.next}
              onClick={() => {
                setTrail([...trail, cursor]);
                setCursor(page.data!.next!);
              }}
            >
              Next page
            </button>
          </nav>
        </>
      )}
    </main>
  );
}

function formatFill(fill: number): string {
  if (fill === 0) return '0 %';
  return fill < 0.001 ? '< 0.1 %' : `${(fill * 100).toFixed(1)} %`;
}
