import type { DeviceSpec, HostSpec } from '../../model/values';
import { DomainError, type ErrorCode } from '../../model/errors';
import { deviceOf, type FdState, type HostState } from '../state';
import type { IoasidState } from '../ioasid-table';

export function fail(code: ErrorCode, message: string, details?: Record<string, unknown>): never {
  throw new DomainError(code, message, details);
}

export function requireHost(state: HostState): HostSpec {
  if (!state.host) fail('NOT_FOUND', 'host is not registered');
  return state.host;
}

/** An open fd of the caller's tenant: another tenant's fd is NOT_FOUND, exactly like a missing one. */
export function requireFd(state: HostState, fdId: string, actorTenantId: string | undefined): FdState {
  requireHost(state);
  const fd = state.fds.get(fdId);
  if (!fd || (actorTenantId !== undefined && fd.tenantId !== actorTenantId)) fail('NOT_FOUND', `fd ${fdId} not found`, { fdId });
  return fd;
}

/** An fd the command may change: not frozen by a migration. */
export function requireMutableFd(state: HostState, fdId: string, actorTenantId: string | undefined): FdState {
  const fd = requireFd(state, fdId, actorTenantId);
  if (fd.migration) {
    fail('FD_MIGRATING', `fd ${fdId} is frozen by migration ${fd.migration.migrationId}`, { migrationId: fd.migration.migrationId });
  }
  return fd;
}

export function requireIoasid(fd: FdState, ioasid: number): IoasidState {
  const io = fd.ioasids.get(ioasid);
  if (!io) fail('NOT_FOUND', `ioasid ${ioasid} not found in fd ${fd.fdId}`, { ioasid });
  return io;
}

export function requireDevice(state: HostState, rid: string): DeviceSpec {
  const device = deviceOf(state, rid);
  if (!device) fail('NOT_FOUND', `device ${rid} not found on host ${state.host?.hostId}`, { rid });
  return device;
}

export function requireMode(fd: FdState): NonNullable<FdState['hwidMode']> {
  if (!fd.hwidMode) fail('HWID_MODE_NOT_SET', `fd ${fd.fdId} has no hwid mode yet`);
  return fd.hwidMode;
}

/** GPAs are hex strings, page aligned (4 KiB). */
export function requireGpa(gpa: unknown): string {
  if (typeof gpa !== 'string' || !/^0x[0-9a-fA-F]{1,16}$/.test(gpa) || (BigInt(gpa) & 0xfffn) !== 0n) {
    fail('INVALID_RANGE', `gpa ${String(gpa)} is not a page-aligned hex address`, { gpa });
  }
  return gpa;
}

export function isIntegerIn(value: unknown, min: number, maxExclusive: number): value is number {
  return typeof value === 'number' && Number.isInteger(value) && value >= min && value < maxExclusive;
}
