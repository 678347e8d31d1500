import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import type { HostEvent } from '../model/events';
import { storeCall } from './store-errors';

/** Where an fd lives and who owns it: enough to route an fd-scoped command without loading streams. */
export interface FdLocation {
  fdId: string;
  hostId: string;
  tenantId: string;
  vmId: string;
  open: boolean;
}

export type FdDirectoryChange =
  | { kind: 'open'; fdId: string; hostId: string; tenantId: string; vmId: string }
  | { kind: 'close'; fdId: string };

/** What a host's events do to the fd directory: created or imported fds open, closed or migrated-out fds close. */
export function fdDirectoryChanges(hostId: string, events: readonly HostEvent[]): FdDirectoryChange[] {
  const changes: FdDirectoryChange[] = [];
  for (const event of events) {
    switch (event.type) {
      case 'FdCreated':
      case 'FdImported':
        changes.push({ kind: 'open', fdId: event.data.fdId, hostId, tenantId: event.data.tenantId, vmId: event.data.vmId });
        break;
      case 'FdClosed':
      case 'FdMigratedOut':
        changes.push({ kind: 'close', fdId: event.data.fdId });
        break;
      default:
        break;
    }
  }
  return changes;
}

@Injectable()
export class FdDirectory {
  constructor(private readonly dataSource: DataSource) {}

  async find(fdId: string): Promise<FdLocation | undefined> {
    const rows: FdRow[] = await storeCall(() =>
      this.dataSource.query('SELECT fd_id, host_id, tenant_id, vm_id, open FROM fd_directory WHERE fd_id = $1', [fdId]),
    );
    return rows.length ? locationOf(rows[0]) : undefined;
  }

  /**
   * Open fds, optionally of one tenant and one host, in (host id, fd id) order: after `after`
   * when given, at most `limit` (all when absent).
   */
  async listOpen(filter: { tenantId?: string; hostId?: string; after?: { hostId: string; fdId: string }; limit?: number }): Promise<FdLocation[]> {
    const rows: FdRow[] = await storeCall(() =>
      this.dataSource.query(
        `SELECT fd_id, host_id, tenant_id, vm_id, open FROM fd_directory
          WHERE open AND ($1::text IS NULL OR tenant_id = $1) AND ($2::text IS NULL OR host_id = $2)
            AND ($3::text IS NULL OR (host_id, fd_id) > ($3, $4::text))
          ORDER BY host_id, fd_id LIMIT $5`,
        [filter.tenantId ?? null, filter.hostId ?? null, filter.after?.hostId ?? null, filter.after?.fdId ?? null, filter.limit ?? null],
      ),
    );
    return rows.map(locationOf);
  }
}

interface FdRow {
  fd_id: string;
  host_id: string;
  tenant_id: string;
  vm_id: string;
  open: boolean;
}

function locationOf(row: FdRow): FdLocation {
  return { fdId: row.fd_id, hostId: row.host_id, tenantId: row.tenant_id, vmId: row.vm_id, open: row.open };
}
