import { Link } from '../route';
import type { FdView } from '../types';
import { TableHead } from './table-head';

/** An fd as its tenant sees it: mode, split, ioasids with hwids and attachments, KVM mappings, migratable state. */
export function FdCard({ fd, heading }: { fd: FdView; heading: 'h2' | 'h1' }) {
  const H = heading;
  const headingId = `fd-${fd.fdId}`;
  return (
    <article class="fd" data-fd-id={fd.fdId} aria-labelledby={headingId}>
      <H id={headingId}>
        fd{' '}
        {heading === 'h2' ? (
          <Link to={`/fds/${encodeURIComponent(fd.fdId)}`}>
            <code>{fd.fdId}</code>
          </Link>
        ) : (
          <code>{fd.fdId}</code>
        )}
      </H>
      <dl class="facts">
        <dt>Host</dt>
        <dd>
          <code>{fd.hostId}</code>
        </dd>
        <dt>VM</dt>
        <dd>
          <code>{fd.vmId}</code>
        </dd>
        <dt>Tenant</dt>
        <dd>
          <code>{fd.tenantId}</code>
        </dd>
        <dt>hwid mode</dt>
        <dd>{fd.hwidMode ?? 'not set'}</dd>
        <dt>Global min</dt>
        <dd>{fd.globalMin ?? '—'}</dd>
        <dt>Migratable</dt>
        <dd data-migratable={String(fd.migratable)}>
          {fd.migratable ? 'yes' : `no${fd.migratableReason ? `: ${fd.migratableReason}` : ''}`}
          {fd.migratingTo && <> (migrating to {fd.migratingTo})</>}
        </dd>
        <dt>Version</dt>
        <dd>{fd.version}</dd>
      </dl>
      <div class="scroll">
        <table class="ioasids">
          <caption>ioasids</caption>
          <TableHead columns={['ioasid', 'hwid (PASID)', 'Global PASID', 'Page table GPA', 'PASID table GPA', 'Attachments']} />
          <tbody>
            {fd.ioasids.length === 0 && (
              <tr>
                <td colSpan={6}>No ioasid.</td>
              </tr>
            )}
            {fd.ioasids.map((io) => (
              <tr key={io.ioasid} data-ioasid={io.ioasid}>
                <th scope="row" class="num">
                  {io.ioasid}
                </th>
                <td class="num">{io.pasid ?? '—'}</td>
                <td class="num">{io.globalPasid ?? '—'}</td>
                <td>
                  <code>{io.pgtableGpa ?? '—'}</code>
                </td>
                <td>
                  <code>{io.pasidTableGpa ?? '—'}</code>
                </td>
                <td>
                  {io.attachments.length === 0
                    ? '—'
                    : io.attachments.map((a) => (
                        <div key={`${a.rid}-${a.mdevId ?? ''}`}>
                          <code>{a.rid}</code>
                          {a.enqcmd && ' enqcmd'}
                          {a.mdevId && <> mdev {a.mdevId}</>}
                        </div>
                      ))}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      <table class="kvm">
        <caption>KVM PASID mappings</caption>
        <TableHead columns={['Guest PASID', 'Host PASID']} />
        <tbody>
          {fd.kvmMappings.length === 0 && (
            <tr>
              <td colSpan={2}>None.</td>
            </tr>
          )}
          {fd.kvmMappings.map((m) => (
            <tr key={m.guestPasid}>
              <td class="num">{m.guestPasid}</td>
              <td class="num">{m.hostPasid}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </article>
  );
}
