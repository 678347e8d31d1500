import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import type { HostEvent } from '../model/events';
import { EVENTS_ARRAY, STREAM_BATCH } from './event-reads';
import { preparedQuery } from './prepared-query';
import { storeCall } from './store-errors';

export interface Snapshot {
  version: number;
  state: unknown;
}

/** Serialized decider states, so that loading a long stream reads only its tail. Only the latest per host is kept. */
@Injectable()
export class SnapshotStore {
  constructor(private readonly dataSource: DataSource) {}

  async latest(hostId: string): Promise<Snapshot | undefined> {
    const rows: Array<{ version: number; state: unknown }> = await storeCall(() =>
      this.dataSource.query('SELECT version, state FROM snapshots WHERE host_id = $1 ORDER BY version DESC LIMIT 1', [hostId]),
    );
    return rows[0];
  }

  /**
   * The latest snapshot and the events after it, at most `batchSize` of them: where loading a
   * decider state starts, in one round trip instead of two (a cold load's Node CPU is a fifth
   * less), prepared once per connection (a cold load runs it on every visit to a host the
   * process does not hold). The events follow the snapshot's version (version 0 when there is none).
   */
  async latestWithEvents(hostId: string, batchSize = STREAM_BATCH): Promise<{ snapshot?: Snapshot; events: HostEvent[] }> {
    const rows = await storeCall(() =>
      preparedQuery<{ version: number | null; state: unknown; events: string }>(
        this.dataSource,
        'ioasid-latest-with-events',
        `SELECT s.version, s.state,
                (SELECT ${EVENTS_ARRAY} FROM events
                  WHERE host_id = $1 AND version > coalesce(s.version, 0) AND version <= coalesce(s.version, 0) + $2) AS events
           FROM (SELECT 1) AS one
           LEFT JOIN LATERAL (SELECT version, state FROM snapshots WHERE host_id = $1 ORDER BY version DESC LIMIT 1) AS s ON true`,
        [hostId, batchSize],
      ),
    );
    const { version, state, events } = rows[0]!;
    return { ...(version === null ? {} : { snapshot: { version, state } }), events: JSON.parse(events) as HostEvent[] };
  }

  /**
   * The `hardware` member of the latest state at or below `atOrBelow` (of the latest, when
   * absent), without reading the rest of the state: where a replay of the hardware may start.
   */
  async latestHardware(hostId: string, atOrBelow?: number): Promise<{ version: number; hardware: unknown } | undefined> {
    const rows: Array<{ version: number; hardware: unknown }> = await storeCall(() =>
      this.dataSource.query(
        `SELECT version, state->'hardware' AS hardware FROM snapshots
          WHERE host_id = $1 AND ($2::int IS NULL OR version <= $2)
          ORDER BY version DESC LIMIT 1`,
        [hostId, atOrBelow ?? null],
      ),
    );
    return rows[0];
  }

  /** `stateJson`: the serialized state, already a string so that the caller may go on mutating the state. */
  async save(hostId: string, version: number, stateJson: string): Promise<void> {
    await storeCall(() =>
      this.dataSource.transaction(async (m) => {
        await m.query('INSERT INTO snapshots (host_id, version, state) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING', [
          hostId,
          version,
          stateJson,
        ]);
        await m.query('DELETE FROM snapshots WHERE host_id = $1 AND version < $2', [hostId, version]);
      }),
    );
  }
}
