import { QueryHandler, type IQueryHandler } from '@nestjs/cqrs';
import { DataSource } from 'typeorm';
import { DomainError } from '../../model/errors';
import type { HardwareView } from '../../hardware';
import { projectedHardware } from '../../projections/projected-hardware';
import { PostgresReplay } from '../../replay/postgres-replay';
import { hardwareAt } from '../../replay/state-at';
import { EventStore } from '../../store/event-store';
import { HardwareProjectionStore } from '../../store/hardware-projection-store';
import { HostDirectory } from '../../store/host-directory';
import { GetHardwareQuery } from '../messages';
import { requireOperator } from './operator-only';

/**
 * Now: the state at the host's head version, read after the read began, so every command
 * acknowledged before (by any replica) is in it: the projection's stored snapshot plus the
 * stored events after it up to the head (any process can answer, whether or not it projects,
 * and however far the projector trails). As of version N: replayed from the store
 * (src/replay), from the nearest snapshot.
 */
@QueryHandler(GetHardwareQuery)
export class GetHardwareHandler implements IQueryHandler<GetHardwareQuery, HardwareView> {
  private readonly replay: PostgresReplay;

  constructor(
    private readonly hosts: HostDirectory,
    private readonly projection: HardwareProjectionStore,
    private readonly events: EventStore,
    dataSource: DataSource,
  ) {
    this.replay = new PostgresReplay(dataSource, events, hosts);
  }

  async execute({ principal, hostId, version }: GetHardwareQuery): Promise<HardwareView> {
    requireOperator(principal);
    const head = await this.hosts.headVersion(hostId);
    if (head === 0) throw new DomainError('NOT_FOUND', `host ${hostId} not found`, { hostId });
    if (version !== undefined && version > head) {
      throw new DomainError('NOT_FOUND', `host ${hostId} has no event version ${version} (head ${head})`, { hostId, version, head });
    }
    if (version === undefined) {
      const projected = await projectedHardware(hostId, this.projection, this.events, this.replay, head);
      // Before the projector's first pass over a new host there is nothing stored yet: replay instead.
      if (projected) return projected;
    }
    const outcome = await hardwareAt(this.replay.source, hostId, { toVersion: version ?? head }, { shortcuts: this.replay.shortcuts });
    if (outcome.problem) throw new Error(`the event log of host ${hostId} is broken at version ${outcome.problem.version}: ${outcome.problem.reason}`);
    return outcome.hardware.view();
  }
}
