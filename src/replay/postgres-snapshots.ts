import type { DataSource } from 'typeorm';
import { HostHardware, type LoadableHardwareSnapshot } from '../hardware';
import type { EventStore } from '../store/event-store';
import { SnapshotStore } from '../store/snapshot-store';
import type { ReplayStart } from './replay';

/**
 * Replay starts from the write path's snapshots (SnapshotStore, the `snapshots` table: decider states,
 * whose `hardware` member is the hardware image). A snapshot only saves work: the chain before
 * it is trusted, which is why verification never starts from one.
 */
export class PostgresSnapshots {
  private readonly snapshots: SnapshotStore;

  constructor(
    dataSource: DataSource,
    private readonly events: Pick<EventStore, 'read'>,
  ) {
    this.snapshots = new SnapshotStore(dataSource);
  }

  /** The hardware of the latest snapshot at or below `atOrBelow` (any, when absent), with its chain position. */
  async nearest(hostId: string, atOrBelow?: number): Promise<ReplayStart | undefined> {
    const snapshot = await this.snapshots.latestHardware(hostId, atOrBelow);
    if (!snapshot?.hardware || snapshot.version < 1) return undefined;
    // The chain goes on from the hash of the snapshot's last event.
    const [last] = await this.events.read(hostId, snapshot.version - 1, snapshot.version);
    if (!last) return undefined;
    return { hardware: HostHardware.fromSnapshot(snapshot.hardware as LoadableHardwareSnapshot), position: { version: snapshot.version, hash: last.hash } };
  }
}
