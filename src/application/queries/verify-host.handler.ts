import { QueryHandler, type IQueryHandler } from '@nestjs/cqrs';
import { DomainError } from '../../model/errors';
import type { VerifyResult } from '../../model/views';
import { PostgresEventSource } from '../../replay/postgres-source';
import { verifyHost, type LiveReference } from '../../replay/verify';
import { EventStore } from '../../store/event-store';
import { HardwareProjectionStore } from '../../store/hardware-projection-store';
import { HostDirectory } from '../../store/host-directory';
import { HostStates } from '../host-states';
import { VerifyHostQuery } from '../messages';
import { requireOperator } from './operator-only';

/**
 * Recomputes the hash chain from the stored rows and replays the whole stream through the
 * hardware (src/replay verifyHost, the code of `ioasidctl replay --verify`), comparing the
 * replay, at the same versions, with the live decider state and with the projection's latest
 * stored snapshot (the projector stores its whole hardware only every so many events).
 */
@QueryHandler(VerifyHostQuery)
export class VerifyHostHandler implements IQueryHandler<VerifyHostQuery, VerifyResult> {
  private readonly source: PostgresEventSource;

  constructor(
    private readonly hosts: HostDirectory,
    events: EventStore,
    private readonly states: HostStates,
    private readonly projection: HardwareProjectionStore,
  ) {
    this.source = new PostgresEventSource(events, hosts);
  }

  async execute({ principal, hostId }: VerifyHostQuery): Promise<VerifyResult> {
    requireOperator(principal);
    if ((await this.hosts.headVersion(hostId)) === 0) throw new DomainError('NOT_FOUND', `host ${hostId} not found`, { hostId });
    // Both live states are read before the replay, which reads the head after them: it passes both versions.
    const projected = await this.projection.get(hostId);
    const live: LiveReference[] = projected ? [{ name: 'the hardware projection', version: projected.version, hash: projected.hash }] : [];
    let deciderFailure: string | undefined;
    try {
      const decider = await this.states.exclusive(hostId, async () => {
        const state = await this.states.current(hostId);
        return { version: state.version, hash: state.hw.hash() };
      });
      live.push({ name: 'the live decider state', ...decider });
    } catch (e) {
      // A tampered log can stop the decider from loading: the replay still says where it breaks.
      deciderFailure = `the live decider state cannot be loaded: ${e instanceof Error ? e.message : String(e)}`;
    }
    const { ok, version, hash, firstBadVersion, reason } = await verifyHost(this.source, hostId, { live });
    if (!ok) return { ok, version, hash, ...(firstBadVersion !== undefined ? { firstBadVersion } : {}), reason };
    return deciderFailure ? { ok: false, version, hash, reason: deciderFailure } : { ok, version, hash };
  }
}
