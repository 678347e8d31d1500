import type { HostCommand } from '../domain/commands';
import type { Quotas } from '../domain/model';
import type { Principal } from './principal';
import type { CommandResponse, RequestMeta } from './request-meta';

/**
 * The CQRS messages that the API adapters (REST, gRPC) dispatch. Handlers live in
 * src/application; the adapters only build these and map the answer.
 */

/**
 * Runs one host command: resolve the host (from `hostId`, or from the fd directory for
 * fd-scoped commands), load, decide, append with the expected version (bounded retries
 * on conflict), answer after the commit. `successStatus` is the status of the answer
 * (201, 200, 204); with an idempotency key the answer is stored in the same transaction.
 * Returns CommandResponse.
 */
export class RunHostCommand {
  constructor(
    readonly command: HostCommand,
    readonly meta: RequestMeta,
    readonly successStatus: number,
  ) {}
}

/** Operator: create a tenant; answers 201 {tenantId, name, quotas, token}. */
export class CreateTenantCommand {
  constructor(
    readonly name: string,
    readonly quotas: Partial<Quotas> | undefined,
    readonly meta: RequestMeta,
  ) {}
}

export class ListHostsQuery {
  constructor(readonly principal: Principal) {}
}
export class GetHostQuery {
  constructor(readonly principal: Principal, readonly hostId: string) {}
}
export class GetFdQuery {
  constructor(readonly principal: Principal, readonly fdId: string) {}
}
export class ListFdsQuery {
  constructor(readonly principal: Principal, readonly hostId?: string) {}
}
/** The hardware view of API.md, now or as of `version`. Operator only. */
export class GetHardwareQuery {
  constructor(readonly principal: Principal, readonly hostId: string, readonly version?: number) {}
}
/** {ok, version, hash, firstBadVersion?}: hash chain and full replay agree with the live state. */
export class VerifyHostQuery {
  constructor(readonly principal: Principal, readonly hostId: string) {}
}
export interface EventFilter {
  hostId?: string;
  fdId?: string;
  type?: string;
  afterVersion?: number;
  pageSize?: number;
  pageToken?: string;
}
/** {events: EventEnvelope[], nextPageToken?}; a tenant sees only its own events. */
export class ListEventsQuery {
  constructor(readonly principal: Principal, readonly filter: EventFilter) {}
}
