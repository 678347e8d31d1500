import { eventOf } from '../model/envelope';
import { HardwareFault, HostHardware } from '../hardware';
import type { EventSource } from './event-source';
import { CHAIN_START, HashChainCheck, type ChainPosition } from './hash-chain';
import { ReplayTargetError, UnknownHostError } from './replay-errors';

/** Where to stop: at a version, at the last event at or before an instant, or (neither) at the end. */
export interface ReplayTarget {
  toVersion?: number;
  at?: Date;
}

/** A trusted point to resume from (a snapshot): the hardware after `position.version` and that event's hash. */
export interface ReplayStart {
  hardware: HostHardware;
  position: ChainPosition;
}

export interface ReplayOptions extends ReplayTarget {
  /** Absent: from version 0 (empty hardware, genesis hash). */
  start?: ReplayStart;
  /** Called after each batch with the last version applied. */
  onProgress?: (version: number) => void;
  /**
   * Called after each event is applied; a returned reason stops the replay with a 'mismatch'
   * problem at that version (verify compares the hardware with a live state there).
   */
  inspect?: (version: number, hardware: HostHardware) => string | undefined;
}

/** The first version a replay could not take: the chain broke there, the hardware refused it, or `inspect` objected. */
export interface ReplayProblem {
  version: number;
  kind: 'chain' | 'fault' | 'mismatch';
  reason: string;
}

export interface ReplayOutcome {
  hostId: string;
  hardware: HostHardware;
  /** The chain position reached: the last version applied and its event hash. */
  head: ChainPosition;
  /** occurredAt of the last event applied. */
  occurredAt?: string;
  /** The version the replay started after (0, or a snapshot's). */
  startedAfter: number;
  /** Set when the replay stopped before its target because the log is not what was written. */
  problem?: ReplayProblem;
}

/**
 * Rebuilds a host's hardware from its envelopes, checking the hash chain as it goes. Stops at
 * the target, at the end of the source, or at the first problem (reported, never thrown: a
 * tampered log is an answer, not a crash). Throws UnknownHostError when the source has no
 * event of the host, ReplayTargetError when `toVersion` lies past its last event.
 */
export async function replayHost(source: EventSource, hostId: string, options: ReplayOptions = {}): Promise<ReplayOutcome> {
  const { toVersion, at, onProgress, inspect } = options;
  const start = options.start ?? { hardware: HostHardware.empty(), position: CHAIN_START };
  if (toVersion !== undefined && toVersion < start.position.version) {
    throw new RangeError(`cannot replay to version ${toVersion} from a start at version ${start.position.version}`);
  }
  const atMs = at?.getTime();
  const hardware = start.hardware;
  const chain = new HashChainCheck(hostId, start.position);
  let occurredAt: string | undefined;
  let problem: ReplayProblem | undefined;
  // Read before the events: a head read after them could include appends the read missed.
  const writerHead = await source.headVersion?.(hostId);
  let seen = start.position.version > 0 || (writerHead ?? 0) > 0;

  replay: for await (const batch of source.read(hostId, start.position.version, toVersion)) {
    for (const sourced of batch) {
      const { envelope } = sourced;
      seen = true;
      if (toVersion !== undefined && chain.position.version >= toVersion) break replay;
      if (atMs !== undefined && Date.parse(envelope.occurredAt) > atMs) break replay;
      const broken = chain.check(sourced);
      if (broken) {
        problem = { ...broken, kind: 'chain' };
        break replay;
      }
      try {
        hardware.apply(eventOf(envelope));
      } catch (e) {
        if (!(e instanceof HardwareFault)) throw e;
        problem = { version: envelope.version, kind: 'fault', reason: `the hardware refused ${envelope.type}: ${e.message}` };
        break replay;
      }
      chain.accept(envelope);
      occurredAt = envelope.occurredAt;
      const mismatch = inspect?.(envelope.version, hardware);
      if (mismatch) {
        problem = { version: envelope.version, kind: 'mismatch', reason: mismatch };
        break replay;
      }
    }
    onProgress?.(hardware.version);
  }

  if (!seen) throw new UnknownHostError(`host "${hostId}" has no events in ${source.name}`);
  const head = chain.position;
  // Without a time bound the replay must reach the writer's head (or the target below it):
  // stopping short means the tail of the log is gone.
  if (!problem && at === undefined && writerHead !== undefined && head.version < Math.min(writerHead, toVersion ?? writerHead)) {
    problem = {
      version: head.version + 1,
      kind: 'chain',
      reason: `version ${head.version + 1} is missing: the log ends at version ${head.version} but the host is at version ${writerHead}`,
    };
  }
  if (toVersion !== undefined && !problem && head.version < toVersion) {
    throw new ReplayTargetError(`host "${hostId}" has no version ${toVersion} in ${source.name} (its last is ${head.version})`);
  }
  return { hostId, hardware, head, occurredAt, startedAfter: start.position.version, problem };
}
