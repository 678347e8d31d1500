import type { Principal } from './principal';
import type { PageRequest } from './queries/list-page';

/**
 * The reads, as CQRS queries: one class per read, one handler each (src/application/queries).
 * Writes are not messages: they go through injected runners (HostCommandRunner, TenantCreator,
 * FdMigrator), which the migration process uses too.
 */

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
/** The caller's WhoAmIView: the operator, or its tenant with the tenant's name. */
export class WhoAmIQuery {
  constructor(readonly principal: Principal) {}
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
