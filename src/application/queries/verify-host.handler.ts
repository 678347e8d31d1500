import { QueryHandler, type IQueryHandler } from '@nestjs/cqrs';
import { eventOf } from '../../domain/envelope';
import { DomainError } from '../../domain/errors';
import { HostHardware } from '../../hardware';
import { HashChainCheck } from '../../replay/hash-chain';
import { EventStore } from '../../store/event-store';
import { HardwareProjectionStore } from '../../store/hardware-projection-store';
import { HostDirectory } from '../../store/host-directory';
import { HostStates } from '../host-states';
import { VerifyHostQuery } from '../messages';
import { requireOperator } from './operator-only';

export interface VerifyResult {
  ok: boolean;
  /** The last version replayed. */
  version: number;
  /** The hardware hash of the replay at that version. */
  hash: string;
  /** The first event that is missing, altered or refused by the hardware. */
  firstBadVersion?: number;
  reason?: string;
}

/** A replay from the store that checks the hash chain as it goes and remembers the hash at one chosen version. */
class CheckedReplay {
  readonly hw = HostHardware.empty();
  private readonly chain: HashChainCheck;
  hashAtMark?: string;

  constructor(
    private readonly events: EventStore,
    private readonly hostId: string,
    private readonly mark: number | undefined,
  ) {
    this.chain = new HashChainCheck(hostId);
  }

  /** Replays up to `toVersion`; the first problem found, if any. */
  async to(toVersion: number): Promise<{ version: number; reason: string } | undefined> {
    for await (const batch of this.events.stream(this.hostId, { afterVersion: this.hw.version, toVersion })) {
      for (const envelope of batch) {
        const broken = this.chain.check({ envelope });
        if (broken) return broken;
        try {
          this.hw.apply(eventOf(envelope));
        } catch (e) {
          return { version: envelope.version, reason: `the hardware refuses the event: ${e instanceof Error ? e.message : String(e)}` };
        }
        this.chain.accept(envelope);
        if (envelope.version === this.mark) this.hashAtMark = this.hw.hash();
      }
    }
    if (this.hw.version < toVersion) return { version: this.hw.version + 1, reason: `version ${this.hw.version + 1} is missing: the stream ends at ${this.hw.version}` };
    return undefined;
  }
}

/**
 * Recomputes the hash chain from the stored rows and replays the whole stream through the
 * hardware, then compares the replay, at the same versions, with the live decider state and
 * with the stored projection.
 */
@QueryHandler(VerifyHostQuery)
export class VerifyHostHandler implements IQueryHandler<VerifyHostQuery, VerifyResult> {
  constructor(
    private readonly hosts: HostDirectory,
    private readonly events: EventStore,
    private readonly states: HostStates,
    private readonly projection: HardwareProjectionStore,
  ) {}

  async execute({ principal, hostId }: VerifyHostQuery): Promise<VerifyResult> {
    requireOperator(principal);
    // The projection first: it trails the head, so the replay to the head passes its version.
    const projected = await this.projection.get(hostId);
    const head = await this.hosts.headVersion(hostId);
    if (head === 0) throw new DomainError('NOT_FOUND', `host ${hostId} not found`, { hostId });

    const replay = new CheckedReplay(this.events, hostId, projected?.version);
    const fail = (firstBadVersion: number | undefined, reason: string): VerifyResult => ({
      ok: false,
      version: replay.hw.version,
      hash: replay.hw.hash(),
      ...(firstBadVersion !== undefined ? { firstBadVersion } : {}),
      reason,
    });

    let broken = await replay.to(head);
    if (broken) return fail(broken.version, broken.reason);
    let live: { version: number; hash: string };
    try {
      live = await this.states.exclusive(hostId, async () => {
        const state = await this.states.current(hostId);
        return { version: state.version, hash: state.hw.hash() };
      });
    } catch (e) {
      return fail(undefined, `the live decider state cannot be loaded: ${e instanceof Error ? e.message : String(e)}`);
    }
    // Commands may have committed since the head was read: replay them too, to compare at the same version.
    broken = await replay.to(live.version);
    if (broken) return fail(broken.version, broken.reason);
    if (replay.hw.hash() !== live.hash) return fail(undefined, `the live decider state differs from the replay at version ${live.version}`);
    if (projected && replay.hashAtMark !== projected.hash) {
      return fail(undefined, `the hardware projection differs from the replay at version ${projected.version}`);
    }
    return { ok: true, version: replay.hw.version, hash: replay.hw.hash() };
  }
}
