import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { storeCall } from './store-errors';

/**
 * The version of an fd: the host version of the last event that concerns it (every fd event
 * names its fd, kept in `events.fd_id`). It is the fd's ETag (API.md "Conditional writes").
 */
@Injectable()
export class FdVersions {
  constructor(private readonly dataSource: DataSource) {}

  /** The fd's version as of host version `atOrBelow` (the committed head when absent); 0 when it has no event. */
  async lastChange(hostId: string, fdId: string, atOrBelow?: number): Promise<number> {
    const rows: Array<{ version: number | null }> = await storeCall(() =>
      this.dataSource.query(
        'SELECT max(version) AS version FROM events WHERE fd_id = $1 AND host_id = $2 AND ($3::int IS NULL OR version <= $3)',
        [fdId, hostId, atOrBelow ?? null],
      ),
    );
    return rows[0]?.version ?? 0;
  }
}
