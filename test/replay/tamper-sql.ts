import type { DataSource } from 'typeorm';

/** Row-level tampering with the events table, as someone with database access could do it. */
export const tamper = {
  /** Changes a field inside one event's data. */
  editData: (ds: DataSource, hostId: string, version: number) =>
    ds.query(`UPDATE events SET data = jsonb_set(data::jsonb, '{fdId}', '"fd-forged"') WHERE host_id = $1 AND version = $2`, [hostId, version]),

  deleteRow: (ds: DataSource, hostId: string, version: number) => ds.query('DELETE FROM events WHERE host_id = $1 AND version = $2', [hostId, version]),

  /** Swaps the positions of two events (through a free version: the primary key is checked row by row). */
  swapRows: async (ds: DataSource, hostId: string, a: number, b: number) => {
    const park = 1_000_000_000;
    await ds.query('UPDATE events SET version = $3 WHERE host_id = $1 AND version = $2', [hostId, a, park]);
    await ds.query('UPDATE events SET version = $3 WHERE host_id = $1 AND version = $2', [hostId, b, a]);
    await ds.query('UPDATE events SET version = $3 WHERE host_id = $1 AND version = $2', [hostId, park, b]);
  },
};
