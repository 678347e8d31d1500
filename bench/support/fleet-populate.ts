import { tokenHash } from '../../src/application/tenant-creator';
import type { HostCommand, HostEvent } from '../../src/model';
import type { Database } from '../../src/store/database';
import { EventStore } from '../../src/store/event-store';
import { HostHardware } from '../../src/hardware';
import { projectionRow } from '../../src/projections/projected-hardware';
import { HardwareProjectionStore, type HardwareProjectionRow } from '../../src/store/hardware-projection-store';
import { TenantRepository } from '../../src/store/tenant-repository';
import { SIOV_RID } from './fd-life';
import { HostDriver } from './host-driver';

/** Global PASIDs each host of the fleet holds: 100,000 hosts hold 1,000,000. */
export const PASIDS_PER_HOST = 10;
/** Appends in flight while populating: concurrent appends of different hosts share a transaction (group commit). */
const APPENDS_IN_FLIGHT = 64;
const PROJECTIONS_PER_WRITE = 200;
/** Events per append at most: a 1,000-event host in one request, 64 of them in one group commit, outlasts the query timeout. */
const EVENTS_PER_APPEND = 100;

/** Fd ids are UUIDs: deterministic ones per host index, so the benchmark can name them. */
export const standingFdId = (i: number) => `00000000-0000-4000-8000-${i.toString(16).padStart(12, '0')}`;
export const busyFdId = (i: number) => `00000000-0000-4000-9000-${i.toString(16).padStart(12, '0')}`;

export interface FleetTenant {
  tenantId: string;
  token: string;
}

/** The tenant of the fleet's standing fds and of the benchmark's clients, with a known token. */
export const FLEET_TENANT: FleetTenant = { tenantId: 'fleet-tenant', token: 'iot_fleet-bench-token' };

/** Stores FLEET_TENANT. */
export async function createFleetTenant(db: Database): Promise<FleetTenant> {
  const tenant = { tenantId: FLEET_TENANT.tenantId, name: 'fleet', quotas: { maxFds: 1_000_000, maxHostPasids: 1_000_000 } };
  await new TenantRepository(db.dataSource).create(tenant, tokenHash(FLEET_TENANT.token));
  return FLEET_TENANT;
}

/** A host of the fleet: one SIOV device and one VM fd in global mode holding `pasids` global PASIDs (34 events for 10). */
export function fleetHost(hostId: string, fdId: string, tenantId: string, pasids = PASIDS_PER_HOST): HostEvent[] {
  const driver = new HostDriver(true);
  driver.run({ type: 'RegisterHost', hostId, pasidBits: 20, enqcmd: true, nestedPasidTable: false, devices: [{ rid: SIOV_RID, kind: 'siov', pasidBits: 20 }] });
  driver.run({ type: 'CreateFd', fdId, tenantId, vmId: `${hostId}-vm` });
  driver.run({ type: 'SetHwidMode', fdId, mode: 'global' });
  driver.run({ type: 'SetGlobalMin', fdId, globalMin: 1024 });
  for (let pasid = 1; pasid <= pasids; pasid++) {
    const [allocated] = driver.run({ type: 'AllocIoasid', fdId });
    const ioasid = (allocated!.data as { ioasid: number }).ioasid;
    driver.run({ type: 'AttachDevice', fdId, ioasid, rid: SIOV_RID, enqcmd: false });
    driver.run({ type: 'SetHwid', fdId, ioasid, pasid });
  }
  return driver.events;
}

/** A host with exactly `count` events: an fd cycling ioasids through attach, hwid, detach and free (what a cold load replays). */
export function longHost(hostId: string, fdId: string, tenantId: string, count: number): HostEvent[] {
  const driver = new HostDriver(true);
  const run = (command: HostCommand) => driver.run(command);
  run({ type: 'RegisterHost', hostId, pasidBits: 20, enqcmd: true, nestedPasidTable: false, devices: [{ rid: SIOV_RID, kind: 'siov', pasidBits: 20 }] });
  run({ type: 'CreateFd', fdId, tenantId, vmId: `${hostId}-vm` });
  run({ type: 'SetHwidMode', fdId, mode: 'global' });
  run({ type: 'SetGlobalMin', fdId, globalMin: 4096 });
  // Every fifth cycle keeps its ioasid: the host ends with standing state too.
  for (let cycle = 0; driver.events.length + 5 <= count; cycle++) {
    const [allocated] = run({ type: 'AllocIoasid', fdId });
    const ioasid = (allocated!.data as { ioasid: number }).ioasid;
    const [attached] = run({ type: 'AttachDevice', fdId, ioasid, rid: SIOV_RID, enqcmd: false });
    run({ type: 'SetHwid', fdId, ioasid, pasid: 1 + (cycle % 900) + 900 * (cycle % 5 === 0 ? 0 : 1) });
    if (cycle % 5 === 0) continue;
    run({ type: 'DetachDevice', fdId, ioasid, rid: SIOV_RID, mdevId: (attached!.data as { mdevId: string }).mdevId });
    run({ type: 'FreeIoasid', fdId, ioasid });
  }
  while (driver.events.length < count) run({ type: 'AllocIoasid', fdId });
  return driver.events;
}

/**
 * Appends each host's events through the store (as decided by the real decider), then stores
 * each host's projected hardware with its checkpoint (as a projector that has run stores it at
 * a host's first save) and clears the outbox: the fleet exists before the services start, and
 * nothing is left for them to relay or project.
 */
export async function populateFleet(db: Database, hosts: ReadonlyArray<{ hostId: string; events: () => HostEvent[] }>, progress: (done: number) => void): Promise<void> {
  const store = new EventStore(db.dataSource);
  const projection = new HardwareProjectionStore(db.dataSource);
  let projected: HardwareProjectionRow[] = [];
  const saveProjected = async () => {
    const rows = projected;
    projected = [];
    await projection.save(rows.map(({ hostId, version, hash }) => ({ hostId, version, hash })), rows);
  };
  let next = 0;
  let done = 0;
  const worker = async () => {
    while (next < hosts.length) {
      const host = hosts[next++]!;
      const events = host.events();
      for (let at = 0; at < events.length; at += EVENTS_PER_APPEND) {
        const chunk = events.slice(at, at + EVENTS_PER_APPEND);
        await store.append({ hostId: host.hostId, expectedVersion: at, events: chunk, actor: 'operator', commandId: `populate-${host.hostId}-${at}`, correlationId: 'populate' });
      }
      const hw = HostHardware.empty();
      for (const event of events) hw.apply(event);
      projected.push(projectionRow(host.hostId, hw));
      if (projected.length >= PROJECTIONS_PER_WRITE) await saveProjected();
      if (++done % 1000 === 0) progress(done);
    }
  };
  await Promise.all(Array.from({ length: APPENDS_IN_FLIGHT }, worker));
  await saveProjected();
  // Emptied, not deleted from: the 3.4 M dead rows of a DELETE stayed in every copy (a copy's
  // autovacuum counts start at zero), and each relay pass walked their index.
  await db.dataSource.query('TRUNCATE outbox');
  // Vacuumed and analyzed now, as a long-running database is, not by autovacuum mid-measurement.
  await db.dataSource.query('VACUUM ANALYZE');
}
