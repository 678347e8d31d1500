import type { Principal } from './principal';

/**
 * The reads, as CQRS queries: one class per read, one handler each (src/application/queries).
 * Writes are not messages: they go through injected runners (HostCommandRunner, TenantCreator,
 * FdMigrator), which the migration process uses too.
 */

/** Every registered host: HostView[] (capabilities and devices, no owners). */
export class ListHostsQuery {
  constructor(readonly principal: Principal) {}
}
/** One host's HostView; NOT_FOUND when it is not registered. */
export class GetHostQuery {
  constructor(readonly principal: Principal, readonly hostId: string) {}
}
/** One fd's FdView, read at the host's committed head; NOT_FOUND when missing, closed or another tenant's. */
export class GetFdQuery {
  constructor(readonly principal: Principal, readonly fdId: string) {}
}
/** The open fds the principal may see (a tenant: its own), optionally on one host: FdView[]. */
export class ListFdsQuery {
  constructor(readonly principal: Principal, readonly hostId?: string) {}
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
