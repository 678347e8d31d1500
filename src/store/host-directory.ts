import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import type { HostSpec } from '../model/values';
import { storeCall } from './store-errors';

/**
 * A registered host as the directory knows it: the host as its latest change left it (the
 * decider state's host, written by the append of every command that changes it; rows written
 * before hosts could change hold the registration, the same shape) and its stream's head.
 */
export interface HostEntry {
  hostId: string;
  version: number;
  host: HostSpec;
}

/** The hosts table: list and look up hosts without loading their streams. */
@Injectable()
export class HostDirectory {
  constructor(private readonly dataSource: DataSource) {}

  /** Registered hosts in host id order: after `afterHostId` when given, at most `limit` (all when absent). */
  async list(page: { afterHostId?: string; limit?: number } = {}): Promise<HostEntry[]> {
    const rows: HostRow[] = await storeCall(() =>
      this.dataSource.query(
        `SELECT host_id, version, spec FROM hosts
          WHERE spec IS NOT NULL AND ($1::text IS NULL OR host_id > $1)
          ORDER BY host_id LIMIT $2`,
        [page.afterHostId ?? null, page.limit ?? null],
      ),
    );
    return rows.map(entryOf);
  }

  async get(hostId: string): Promise<HostEntry | undefined> {
    const rows: HostRow[] = await storeCall(() =>
      this.dataSource.query('SELECT host_id, version, spec FROM hosts WHERE host_id = $1 AND spec IS NOT NULL', [hostId]),
    );
    return rows.length ? entryOf(rows[0]) : undefined;
  }

  /** The committed head version of a stream; 0 when it has no event. */
  async headVersion(hostId: string): Promise<number> {
    const rows: Array<{ version: number }> = await storeCall(() =>
      this.dataSource.query('SELECT version FROM hosts WHERE host_id = $1', [hostId]),
    );
    return rows[0]?.version ?? 0;
  }
}

interface HostRow {
  host_id: string;
  version: number;
  spec: HostSpec;
}

function entryOf(row: HostRow): HostEntry {
  return { hostId: row.host_id, version: row.version, host: row.spec };
}
