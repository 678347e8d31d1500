import type { HardwarePort } from './hardware-port';
import type { IoasidTable } from './ioasid-table';
import type { DeviceSpec, HostSpec, Rid } from '../model/values';
import type { FdIdentity, FdMode, FdView } from '../model/views';

/** An open fd as the decider keeps it: the fd view's facts under its names, plus what the view derives from. */
export interface FdState extends FdIdentity, FdMode, Pick<FdView, 'migratable' | 'migratableReason'> {
  /** Set while a migration holds the fd frozen (the view shows its target as `migratingTo`). */
  migration?: { migrationId: string; targetHostId: string };
  /** The migration whose import created this fd: while it is open, that migration's import cannot be barred. */
  importedBy?: string;
  ioasids: IoasidTable;
  /** Every ioasid id below this one is in use: where the search for the lowest free id starts. */
  ioasidFloor: number;
  /** Local mode: user PASID -> the ioasid(s) that set it as their hwid (see pasid-index.ts; global mode asks the hardware). */
  ioasidsByPasid: Map<number, number | number[]>;
  /** Host-allocated PASIDs (global and real) this fd holds. */
  hostPasids: number;
}

/** Per tenant on this host: what the quotas count (I8). */
export interface TenantUsage {
  fds: number;
  hostPasids: number;
}

/**
 * The decider state of one host. PASID tables, contexts, the allocator and KVM tables are
 * read from `hw`, the emulated hardware, rather than kept twice; the rest is the logical
 * fd model that the hardware does not hold. `H` is the hardware's concrete type for whoever
 * composed the state (src/composition); the decider sees only the port it declares.
 */
export interface HostState<H extends HardwarePort = HardwarePort> {
  /** Events applied. */
  version: number;
  /**
   * The host as its events describe it (registration, devices, cordon, decommission). Replaced,
   * never changed in place, by every event that changes it: `deviceOf`'s index is kept per
   * object, and a caller tells whether a command changed the host by comparing the reference.
   */
  host: HostSpec | null;
  hw: H;
  /** Open fds (closed and migrated-out fds are dropped). The open fd of a VM (tenant, vmId) is `hw.fdOfVm`. */
  fds: Map<string, FdState>;
  tenants: Map<string, TenantUsage>;
  nextDomainId: number;
  nextMdev: number;
  /** Migrations whose import this host refuses (MigrationImportBarred): never cleared, a late ImportFd may come any time. */
  barredImports: Set<string>;
}

/** A host with no event applied yet, on `hw`: hardware with no event applied either. */
export function emptyHostState<H extends HardwarePort>(hw: H): HostState<H> {
  return {
    version: 0,
    host: null,
    hw,
    fds: new Map(),
    tenants: new Map(),
    nextDomainId: 1,
    nextMdev: 1,
    barredImports: new Set(),
  };
}

export function tenantUsage(state: HostState, tenantId: string): TenantUsage {
  return state.tenants.get(tenantId) ?? { fds: 0, hostPasids: 0 };
}

const deviceIndexes = new WeakMap<HostSpec, Map<Rid, DeviceSpec>>();

export function deviceOf(state: HostState, rid: Rid): DeviceSpec | undefined {
  if (!state.host) return undefined;
  let index = deviceIndexes.get(state.host);
  if (!index) {
    index = new Map(state.host.devices.map((d) => [d.rid, d]));
    deviceIndexes.set(state.host, index);
  }
  return index.get(rid);
}
