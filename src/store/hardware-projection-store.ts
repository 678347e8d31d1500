import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import type { HardwareSnapshot, HardwareView } from '../hardware';
import { storeCall } from './store-errors';

/** The projector's name in projection_checkpoints. */
export const HARDWARE_PROJECTOR = 'hardware';

/** One host's projected hardware as stored: the API view, and the snapshot the projector restarts from. */
export interface HardwareProjectionRow {
  hostId: string;
  version: number;
  hash: string;
  pasidsInUse: number;
  view: HardwareView;
  snapshot: HardwareSnapshot;
}

/** The hardware_projection table and the projector's checkpoints, always written together. */
@Injectable()
export class HardwareProjectionStore {
  constructor(private readonly dataSource: DataSource) {}

  async get(hostId: string): Promise<HardwareProjectionRow | undefined> {
    const rows: Array<{ version: number; hash: string; pasids_in_use: number; view: HardwareView; snapshot: HardwareSnapshot }> =
      await storeCall(() =>
        this.dataSource.query('SELECT version, hash, pasids_in_use, view, snapshot FROM hardware_projection WHERE host_id = $1', [hostId]),
      );
    if (!rows.length) return undefined;
    const r = rows[0];
    return { hostId, version: r.version, hash: r.hash, pasidsInUse: r.pasids_in_use, view: r.view, snapshot: r.snapshot };
  }

  /** Stores each host's projection and its checkpoint in one transaction. */
  async save(rows: readonly HardwareProjectionRow[]): Promise<void> {
    if (!rows.length) return;
    await storeCall(() =>
      this.dataSource.transaction(async (m) => {
        // The projection is rebuilt from the store after a crash: a lost last write costs a replay, not data.
        await m.query('SET LOCAL synchronous_commit = off');
        await m.query(
          `INSERT INTO hardware_projection (host_id, version, hash, pasids_in_use, view, snapshot)
           SELECT * FROM unnest($1::text[], $2::int[], $3::text[], $4::int[], $5::jsonb[], $6::jsonb[])
           ON CONFLICT (host_id) DO UPDATE SET version = EXCLUDED.version, hash = EXCLUDED.hash, pasids_in_use = EXCLUDED.pasids_in_use,
             view = EXCLUDED.view, snapshot = EXCLUDED.snapshot, updated_at = now()`,
          [
            rows.map((r) => r.hostId),
            rows.map((r) => r.version),
            rows.map((r) => r.hash),
            rows.map((r) => r.pasidsInUse),
            rows.map((r) => JSON.stringify(r.view)),
            rows.map((r) => JSON.stringify(r.snapshot)),
          ],
        );
        await m.query(
          `INSERT INTO projection_checkpoints (projector, host_id, version, hash)
           SELECT $1, * FROM unnest($2::text[], $3::int[], $4::text[])
           ON CONFLICT (projector, host_id) DO UPDATE SET version = EXCLUDED.version, hash = EXCLUDED.hash, updated_at = now()`,
          [HARDWARE_PROJECTOR, rows.map((r) => r.hostId), rows.map((r) => r.version), rows.map((r) => r.hash)],
        );
      }),
    );
  }

  /** Hosts whose projection is behind their stream, with the projected version (0: never projected). */
  async behind(): Promise<Array<{ hostId: string; projected: number; head: number }>> {
    const rows: Array<{ host_id: string; projected: number; head: number }> = await storeCall(() =>
      this.dataSource.query(
        `SELECT h.host_id, coalesce(c.version, 0) AS projected, h.version AS head
           FROM hosts h LEFT JOIN projection_checkpoints c ON c.projector = $1 AND c.host_id = h.host_id
          WHERE h.version > coalesce(c.version, 0)
          ORDER BY h.host_id`,
        [HARDWARE_PROJECTOR],
      ),
    );
    return rows.map((r) => ({ hostId: r.host_id, projected: r.projected, head: r.head }));
  }

  /** Committed events not yet projected, over all hosts. */
  async lag(): Promise<number> {
    const rows: Array<{ lag: string }> = await storeCall(() =>
      this.dataSource.query(
        `SELECT coalesce(sum(h.version - coalesce(c.version, 0)), 0) AS lag
           FROM hosts h LEFT JOIN projection_checkpoints c ON c.projector = $1 AND c.host_id = h.host_id`,
        [HARDWARE_PROJECTOR],
      ),
    );
    return Number(rows[0].lag);
  }
}
