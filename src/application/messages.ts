import type { HostCommand } from '../domain/commands';
import type { Quotas } from '../domain/model';
import type { Principal } from './principal';
import type { PageRequest } from './queries/list-page';
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
    /**
     * The host the command runs on when the command itself does not say: required for
     * CreateFd (the `hostId` of the REST body), ImportFd and BarMigrationImport (the target host); RegisterHost
     * uses `command.hostId`; fd-scoped commands find their host in the fd directory and
     * ignore this (added after the first contract: optional, so existing callers still compile).
     */
    readonly hostId?: string,
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

/** A page of the registered hosts in host id order: {hosts: HostView[] (capabilities and devices, no owners), nextPageToken?}. */
export class ListHostsQuery {
  constructor(
    readonly principal: Principal,
    readonly page: PageRequest = {},
  ) {}
}
/** One host's HostView; NOT_FOUND when it is not registered. */
export class GetHostQuery {
  constructor(readonly principal: Principal, readonly hostId: string) {}
}
/** One fd's FdView, read at the host's committed head; NOT_FOUND when missing, closed or another tenant's. */
export class GetFdQuery {
  constructor(readonly principal: Principal, readonly fdId: string) {}
}
/** A page of the open fds the principal may see (a tenant: its own), optionally on one host: {fds: FdView[], nextPageToken?}. */
export class ListFdsQuery {
  constructor(
    readonly principal: Principal,
    readonly hostId?: string,
    readonly page: PageRequest = {},
  ) {}
}
/** The hardware view of API.md, now or as of `version`. Operator only. */
export class GetHardwareQuery {
  constructor(readonly principal: Principal, readonly hostId: string, readonly version?: number) {}
}
/** {ok, version, hash, firstBadVersion?, reason?}: hash chain and full replay agree with the live state and the projection. */
export class VerifyHostQuery {
  constructor(readonly principal: Principal, readonly hostId: string) {}
}
export interface EventFilter {
  hostId?: string;
  fdId?: string;
  type?: string;
  afterVersion?: number;
  /** ISO time: only events that occurred at or after it (`ioasidctl audit --since`; added, optional). */
  since?: string;
  pageSize?: number;
  pageToken?: string;
}
/** {events: EventEnvelope[], nextPageToken?}; a tenant sees only its own events. */
export class ListEventsQuery {
  constructor(readonly principal: Principal, readonly filter: EventFilter) {}
}
