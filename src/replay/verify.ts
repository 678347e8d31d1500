import type { HostHardware } from '../hardware';
import type { EventSource } from './event-source';
import { replayHost, type ReplayProblem } from './replay';

/** A live hardware state to agree with: the version it has applied and its hardware hash there. */
export interface LiveReference {
  /** For messages: "the hardware projection", "the live decider state". */
  name: string;
  version: number;
  hash: string;
}

export interface VerifyReport {
  hostId: string;
  ok: boolean;
  /** The last version replayed (the head when ok). */
  version: number;
  /** The replayed hardware hash at `version`. */
  hash: string;
  /** The replayed hardware at `version`. */
  hardware: HostHardware;
  /** The live states compared with (none when the host has no live state yet). */
  compared: LiveReference[];
  firstBadVersion?: number;
  reason?: string;
}

export interface VerifyOptions {
  live?: LiveReference[];
  onProgress?: (version: number) => void;
}

/**
 * Tamper evidence for one host: a full replay from version 1 (never from a snapshot) checking
 * the hash chain, and the replayed hardware hash equal to each live state's at its version.
 * Names the first bad version: the first link that breaks, or a live version where only the
 * state differs (events rewritten with a recomputed chain), or the first version past the
 * log when a live state has seen more events than the log still holds.
 */
export async function verifyHost(source: EventSource, hostId: string, options: VerifyOptions = {}): Promise<VerifyReport> {
  const { live = [], onProgress } = options;
  const outcome = await replayHost(source, hostId, {
    onProgress,
    inspect: (version, hardware) => {
      const due = live.filter((l) => l.version === version);
      if (due.length === 0) return undefined;
      const hash = hardware.hash();
      const differs = due.find((l) => l.hash !== hash);
      return differs && `the replayed hardware (hash ${hash}) differs from ${differs.name} (hash ${differs.hash}) at version ${version}`;
    },
  });
  let problem: ReplayProblem | undefined = outcome.problem;
  const ahead = live.find((l) => l.version > outcome.head.version);
  if (!problem && ahead) {
    problem = {
      version: outcome.head.version + 1,
      kind: 'chain',
      reason: `version ${outcome.head.version + 1} is missing: the log ends at version ${outcome.head.version} but ${ahead.name} is at version ${ahead.version}`,
    };
  }
  return {
    hostId,
    ok: problem === undefined,
    version: outcome.head.version,
    hash: outcome.hardware.hash(),
    hardware: outcome.hardware,
    compared: live,
    ...(problem ? { firstBadVersion: problem.version, reason: problem.reason } : {}),
  };
}
