import type { DataSource } from 'typeorm';
import { HostHardware, type HardwareSnapshot } from '../hardware';
import type { EventStore } from '../store/event-store';
import { storeCall } from '../store/store-errors';
import type { ReplayStart } from './replay';

/**
 * Replay starts from the write path's snapshots (the store's `snapshots` table: decider states,
 * whose `hardware` member is the hardware image). A snapshot only saves work: the chain before
 * it is trusted, which is why verification never starts from one.
 */
export class PostgresSnapshots {
  constructor(
    private readonly dataSource: DataSource,
    private readonly events: Pick<EventStore, 'read'>,
  ) {}

  /** The hardware of the latest snapshot at or below `atOrBelow` (any, when absent), with its chain position. */
  async nearest(hostId: string, atOrBelow?: number): Promise<ReplayStart | undefined> {
    const rows: Array<{ version: number; hardware: HardwareSnapshot | null }> = await storeCall(() =>
      this.dataSource.query(
        `SELECT version, state->'hardware' AS hardware FROM snapshots
          WHERE host_id = $1 AND ($2::int IS NULL OR version <= $2)
          ORDER BY version DESC LIMIT 1`,
        [hostId, atOrBelow ?? null],
      ),
    );
    const snapshot = rows[0];
    if (!snapshot?.hardware || snapshot.version < 1) return undefined;
    // The chain goes on from the hash of the snapshot's last event.
    const [last] = await this.events.read(hostId, snapshot.version - 1, snapshot.version);
    if (!last) return undefined;
    return { hardware: HostHardware.fromSnapshot(snapshot.hardware), position: { version: snapshot.version, hash: last.hash } };
  }
}
