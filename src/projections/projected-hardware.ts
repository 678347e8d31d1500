import { HostHardware, type HardwareView } from '../hardware';
import type { PostgresReplay } from '../replay/postgres-replay';
import { replayHost, type ReplayOutcome } from '../replay/replay';
import { hardwareAt } from '../replay/state-at';
import type { EventStore } from '../store/event-store';
import type { HardwareProjectionRow, HardwareProjectionStore } from '../store/hardware-projection-store';

/**
 * The hardware projection of a host now, as stored by whichever process projects: the stored
 * snapshot when it is at the checkpoint, else the snapshot plus the stored events up to the
 * checkpoint, replayed by the shared replay code (the hash is then computed once, here, and not
 * by the projector per batch). With `atLeast` (a read that must see every acknowledged write:
 * the host's head), the stored events are replayed up to that version when the checkpoint
 * trails it. Undefined before the projector has stored the host.
 */
export async function projectedHardware(
  hostId: string,
  projection: Pick<HardwareProjectionStore, 'get' | 'checkpoint'>,
  events: Pick<EventStore, 'read'>,
  replay: PostgresReplay,
  atLeast = 0,
): Promise<HardwareView | undefined> {
  const stored = await projection.checkpoint(hostId);
  if (stored === 0) return undefined;
  const checkpoint = Math.max(stored, atLeast);
  const snapshot = await projection.get(hostId);
  // Read after the checkpoint: a snapshot stored meanwhile is newer still, and as much the projection.
  if (snapshot && snapshot.version >= checkpoint) return snapshot.view;
  let outcome: ReplayOutcome;
  const [last] = snapshot ? await events.read(hostId, snapshot.version - 1, snapshot.version) : [];
  if (snapshot && last) {
    const start = { hardware: HostHardware.fromSnapshot(snapshot.snapshot), position: { version: snapshot.version, hash: last.hash } };
    outcome = await replayHost(replay.source, hostId, { toVersion: checkpoint, start });
  } else {
    outcome = await hardwareAt(replay.source, hostId, { toVersion: checkpoint }, { shortcuts: replay.shortcuts });
  }
  if (outcome.problem) throw new Error(`the event log of host ${hostId} is broken at version ${outcome.problem.version}: ${outcome.problem.reason}`);
  return outcome.hardware.view();
}

/** What is stored of `hw` as the projection of `hostId` at its version: its view, snapshot and PASIDs in use. */
export function projectionRow(hostId: string, hw: HostHardware): HardwareProjectionRow {
  const view = hw.view();
  return { hostId, version: hw.version, hash: view.hash, pasidsInUse: hw.pasidsInUse(), view, snapshot: hw.toSnapshot() };
}
