import type { DataSource } from 'typeorm';
import type { HostState } from '../../src/composition/host-state';

/** Stores a host's hardware as the projector would (hardware_projection): the live state verify compares with. */
export async function storeProjection(dataSource: DataSource, hostId: string, state: HostState): Promise<void> {
  const view = state.hw.view();
  await dataSource.query(
    `INSERT INTO hardware_projection (host_id, version, hash, pasids_in_use, view, snapshot) VALUES ($1, $2, $3, $4, $5, $6)
     ON CONFLICT (host_id) DO UPDATE SET version = EXCLUDED.version, hash = EXCLUDED.hash, view = EXCLUDED.view, snapshot = EXCLUDED.snapshot`,
    [hostId, state.version, view.hash, state.hw.pasidsInUse(), JSON.stringify(view), JSON.stringify(state.hw.toSnapshot())],
  );
}
