import type { EventSource } from './event-source';
import { replayHost, type ReplayOutcome, type ReplayStart, type ReplayTarget } from './replay';

/** What a store adds to its events: a time index and snapshots to start from. */
export interface ReplayShortcuts {
  /** The last version at or before `at` (0 when none). */
  versionAt(hostId: string, at: Date): Promise<number>;
  /** The nearest snapshot at or below `atOrBelow` (the latest when absent). */
  nearest(hostId: string, atOrBelow?: number): Promise<ReplayStart | undefined>;
}

/**
 * A host's hardware at a version, at an instant, or now: the one way the CLI, GET
 * /hardware?version=N and the benchmarks get a past state. With shortcuts, a time becomes a
 * version and the replay starts from the nearest snapshot at or below it; the result is the
 * same as a replay from version 1, only faster.
 */
export async function hardwareAt(
  source: EventSource,
  hostId: string,
  target: ReplayTarget,
  options: { shortcuts?: ReplayShortcuts; onProgress?: (version: number) => void } = {},
): Promise<ReplayOutcome> {
  const { shortcuts, onProgress } = options;
  if (!shortcuts) return replayHost(source, hostId, { ...target, onProgress });
  const toVersion = target.at ? await shortcuts.versionAt(hostId, target.at) : target.toVersion;
  const start = toVersion === 0 ? undefined : await shortcuts.nearest(hostId, toVersion);
  return replayHost(source, hostId, { toVersion, start, onProgress });
}
