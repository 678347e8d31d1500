import { Injectable } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { decide, exportFd, refuseDeviceMap } from '../../domain';
import { DomainError } from '../../model/errors';
import { timeOrderedUuid } from '../../model/time-ordered-uuid';
import type { Rid } from '../../model/values';
import { FdLocations } from '../fd-locations';
import { HostStates } from '../host-states';
import { tenantScopeOf } from '../principal';
import { TenantQuotas } from '../tenant-quotas';
import type { RequestMeta } from '../request-meta';
import type { MigrationRequest } from './messages';
import { importCommand, startCommand, type MigrationPlan } from './migration-plan';
import type { HostState } from '../../composition/host-state';

/**
 * Everything a migration can be refused for, checked before anything changes: the source's
 * decider is asked whether the fd may be frozen and exported, the target's whether it would
 * import it, both on their current state and without appending. A refusal here is the answer
 * with the right code, and no stream has moved. (The real steps decide again: a change that
 * slips in between is refused there and rolled back.)
 */
@Injectable()
export class MigrationPreflight {
  constructor(
    private readonly locations: FdLocations,
    private readonly states: HostStates,
    private readonly quotas: TenantQuotas,
  ) {}

  async check(request: MigrationRequest, meta: RequestMeta): Promise<MigrationPlan> {
    const actorTenantId = tenantScopeOf(meta.principal);
    const source = await this.locations.locate(request.fdId, actorTenantId);
    const ctx = await this.quotas.load(source.tenantId);
    const plan: MigrationPlan = {
      migrationId: randomUUID(),
      fdId: request.fdId,
      tenantId: source.tenantId,
      ...(actorTenantId === undefined ? {} : { actorTenantId }),
      sourceHostId: source.hostId,
      targetHostId: request.targetHostId,
      targetFdId: timeOrderedUuid(),
      deviceMap: request.deviceMap,
    };

    const image = await this.onState(plan.sourceHostId, (state) => {
      decide(startCommand(plan), state, ctx);
      requireSourceDevices(state, plan.deviceMap);
      return exportFd(state, plan.fdId, actorTenantId);
    });
    await this.onState(plan.targetHostId, (state) => {
      if (!state.host) throw new DomainError('NOT_FOUND', `host ${plan.targetHostId} not found`, { hostId: plan.targetHostId });
      decide(importCommand(plan, image), state, ctx);
    });
    return plan;
  }

  /** `check` runs on the host's committed state under its lock (the next command mutates it in place). */
  private onState<T>(hostId: string, check: (state: HostState) => T): Promise<T> {
    return this.states.exclusive(hostId, async () => check(await this.states.current(hostId)));
  }
}

/** Every source device the map names exists on the source, attached or not (the target's decider checks the rest of the map). */
function requireSourceDevices(state: HostState, deviceMap: Record<Rid, Rid>): void {
  const known = new Set(state.host?.devices.map((d) => d.rid));
  refuseDeviceMap(Object.keys(deviceMap).filter((rid) => !known.has(rid)).map((source) => ({ source, target: deviceMap[source], problem: 'SOURCE_UNKNOWN' as const })));
}
