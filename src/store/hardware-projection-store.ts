import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import type { HardwareView, LoadableHardwareSnapshot } from '../hardware';
import { preparedQuery } from './prepared-query';
import { storeCall } from './store-errors';

/** The projector's name in projection_checkpoints. */
export const HARDWARE_PROJECTOR = 'hardware';

/** One host's projected hardware at a version: the API view, and the snapshot the projector restarts from. */
export interface HardwareProjectionRow {
  hostId: string;
  version: number;
  hash: string;
  pasidsInUse: number;
  view: HardwareView;
  snapshot: LoadableHardwareSnapshot;
}

/** The version of a host's stream the projector has applied; `hash` only when a snapshot at that version goes with it. */
export interface HardwareCheckpoint {
  hostId: string;
  version: number;
  hash?: string;
}

/** The checkpoint of host `hostId` (SQL) for projector $1, never below the version of its stored snapshot (`snapshotVersion`, SQL). */
function checkpointOf(hostId: string, snapshotVersion: string): string {
  return `greatest((SELECT version FROM projection_checkpoints WHERE projector = $1 AND host_id = ${hostId}), ${snapshotVersion}, 0)`;
}

/** Where the projector takes a host up again: its stored hardware snapshot, if any, and its checkpoint. */
export interface RestartPoint {
  snapshot?: LoadableHardwareSnapshot;
  checkpoint: number;
}

/**
 * The projector's checkpoints (after every batch: small) and its hardware snapshots in
 * hardware_projection (every so many events: the whole image), written in one statement. A
 * snapshot may trail its checkpoint: the projection at the checkpoint is the snapshot plus the
 * stored events up to it.
 */
@Injectable()
export class HardwareProjectionStore {
  constructor(private readonly dataSource: DataSource) {}

  /** The latest stored snapshot of the host's projection. */
  async get(hostId: string): Promise<HardwareProjectionRow | undefined> {
    const rows: Array<{ version: number; hash: string; pasids_in_use: number; view: HardwareView; snapshot: LoadableHardwareSnapshot }> =
      await storeCall(() =>
        this.dataSource.query('SELECT version, hash, pasids_in_use, view, snapshot FROM hardware_projection WHERE host_id = $1', [hostId]),
      );
    if (!rows.length) return undefined;
    const r = rows[0];
    return { hostId, version: r.version, hash: r.hash, pasidsInUse: r.pasids_in_use, view: r.view, snapshot: r.snapshot };
  }

  /** The version the projection has applied (0: never projected); never below its stored snapshot. */
  async checkpoint(hostId: string): Promise<number> {
    const rows: Array<{ version: number }> = await storeCall(() =>
      this.dataSource.query(
        `SELECT ${checkpointOf('$2', '(SELECT version FROM hardware_projection WHERE host_id = $2)')} AS version`,
        [HARDWARE_PROJECTOR, hostId],
      ),
    );
    return rows[0].version;
  }

  /**
   * Where the projector takes each of `hostIds` up again: its stored hardware snapshot (without
   * the view, which it does not read) and its checkpoint, for all of them in one statement
   * (prepared once per connection): the projector does this for the hosts of a delivery it does
   * not hold, on nearly every host visit across a fleet.
   */
  async restartPoints(hostIds: readonly string[]): Promise<Map<string, RestartPoint>> {
    const rows = await storeCall(() =>
      preparedQuery<{ host_id: string; snapshot: LoadableHardwareSnapshot | null; checkpoint: number }>(
        this.dataSource,
        'ioasid-projection-restart-points',
        `SELECT h.host_id, p.snapshot, ${checkpointOf('h.host_id', 'p.version')} AS checkpoint
           FROM unnest($2::text[]) AS h(host_id) LEFT JOIN hardware_projection p ON p.host_id = h.host_id`,
        [HARDWARE_PROJECTOR, hostIds],
      ),
    );
    return new Map(rows.map(({ host_id, snapshot, checkpoint }) => [host_id, { ...(snapshot === null ? {} : { snapshot }), checkpoint }]));
  }

  /**
   * Stores the checkpoints and the snapshots in one statement (one transaction, one round
   * trip). Neither goes back: a projector that lost a host to another (a consumer group
   * rebalance) may still store its older state.
   */
  async save(checkpoints: readonly HardwareCheckpoint[], snapshots: readonly HardwareProjectionRow[] = []): Promise<void> {
    if (!checkpoints.length && !snapshots.length) return;
    await storeCall(() =>
      this.dataSource.query(
        `WITH snapshots AS (
           INSERT INTO hardware_projection (host_id, version, hash, pasids_in_use, view, snapshot)
           SELECT * FROM unnest($5::text[], $6::int[], $7::text[], $8::int[], $9::jsonb[], $10::jsonb[])
           ON CONFLICT (host_id) DO UPDATE SET version = EXCLUDED.version, hash = EXCLUDED.hash, pasids_in_use = EXCLUDED.pasids_in_use,
             view = EXCLUDED.view, snapshot = EXCLUDED.snapshot, updated_at = now()
           WHERE hardware_projection.version <= EXCLUDED.version
         ),
         checkpoints AS (
           INSERT INTO projection_checkpoints (projector, host_id, version, hash)
           SELECT $1, * FROM unnest($2::text[], $3::int[], $4::text[])
           ON CONFLICT (projector, host_id) DO UPDATE SET version = EXCLUDED.version, hash = EXCLUDED.hash, updated_at = now()
           WHERE projection_checkpoints.version <= EXCLUDED.version
         )
         -- The projection is rebuilt from the store after a crash: a lost last write costs a
         -- replay, not data. set_config(..., true) lasts to the end of this statement's own
         -- transaction, as SET LOCAL would in an explicit one.
         SELECT set_config('synchronous_commit', 'off', true)`,
        [
          HARDWARE_PROJECTOR,
          checkpoints.map((c) => c.hostId),
          checkpoints.map((c) => c.version),
          checkpoints.map((c) => c.hash ?? null),
          snapshots.map((r) => r.hostId),
          snapshots.map((r) => r.version),
          snapshots.map((r) => r.hash),
          snapshots.map((r) => r.pasidsInUse),
          snapshots.map((r) => JSON.stringify(r.view)),
          snapshots.map((r) => JSON.stringify(r.snapshot)),
        ],
      ),
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
}
