import type { CommandOf } from '../../model/commands';
import type { EventData, HostEvent } from '../../model/events';
import type { DeviceSpec, HostSpec, ProgrammedEntry, Quotas, Rid } from '../../model/values';
import type { FdImage } from '../../model/views';
import { MAX_IOASID } from '../../model/values';
import { deviceOf, type HostState } from '../state';
import { checkNewFd } from './fd-lifecycle';
import { fail, isIntegerIn, requireGpa, requireHost } from './guards';
import { PasidPlan } from './pasid-plan';
import { checkVirtualWidth, checkWidth, pasidsOf, plannedEntries } from './programming';
import { checkDeviceMap } from './device-map';
import { nextVdevId, VDEV_ID_PATTERN } from '../vdev-id';

type ImportedIoasid = EventData<'FdImported'>['ioasids'][number];
interface MappedIoasid {
  source: FdImage['ioasids'][number];
  devices: Array<{ device: DeviceSpec; enqcmd: boolean }>;
}

/**
 * The target side of a migration, decided in one step: either the whole fd is re-created
 * (every host PASID re-allocated, entries and KVM mappings re-programmed) or nothing is.
 */
export function importFd(command: CommandOf<'ImportFd'>, state: HostState, quotas: Quotas): HostEvent[] {
  const host = requireHost(state);
  const image = command.image;
  if (!image || typeof image !== 'object' || !Array.isArray(image.ioasids) || !Array.isArray(image.kvmGuestPasids)) {
    fail('INVALID_RANGE', 'the fd image is malformed');
  }
  checkNewFd(state, command.fdId, command.tenantId, image.vmId, command.actorTenantId, quotas);
  checkSplit(host, image);
  checkDeviceMap(state, image, command.deviceMap ?? {});
  const vdevIds = imageVdevIds(image);
  const mapped = mapDevices(state, host, image, command.deviceMap ?? {});
  const plan = new PasidPlan(state, command.tenantId, quotas);
  const domainId = state.nextDomainId;
  let nextMdev = state.nextMdev;
  const ioasids: ImportedIoasid[] = [];
  const programmed: ProgrammedEntry[] = [];
  const guestContexts: Array<{ rid: Rid; gpa: string }> = [];
  const localPasids = new Map<number, ImportedIoasid>();

  for (const { source, devices } of mapped) {
    const io: ImportedIoasid = { ioasid: source.ioasid, attachments: [] };
    devices.forEach(({ device, enqcmd }, i) => {
      const vdevId = vdevIds.get(source.attachments[i]!)!;
      io.attachments.push({ vdevId, rid: device.rid, enqcmd, ...(device.kind === 'siov' ? { mdevId: `mdev-${nextMdev++}` } : {}) });
    });
    if (source.pasidTableGpa !== undefined) {
      io.pasidTableGpa = requireGpa(source.pasidTableGpa);
      checkPasidTable(host, image, source, devices, command.deviceMap ?? {});
      for (const { device } of devices) guestContexts.push({ rid: device.rid, gpa: io.pasidTableGpa });
    }
    if (source.pasid !== undefined) {
      io.pasid = source.pasid;
      allocateHostPasid(host, image, io, devices, plan, localPasids);
      for (const { device, enqcmd } of devices) {
        checkWidth(device.rid, device.pasidBits, pasidsOf(image.hwidMode!, device.kind, enqcmd, io));
        checkVirtualWidth(image.hwidMode!, device, io.pasid);
      }
    }
    if (source.pgtableGpa !== undefined) {
      if (io.pasid === undefined) fail('INVALID_RANGE', `ioasid ${io.ioasid} has a page table but no hwid`);
      io.pgtableGpa = requireGpa(source.pgtableGpa);
      const target = { fdId: command.fdId, ioasid: io.ioasid, domainId, gpa: io.pgtableGpa };
      for (const { device, enqcmd } of devices) {
        const pasids = pasidsOf(image.hwidMode!, device.kind, enqcmd, io).filter(
          (p) => !programmed.some((e) => e.rid === device.rid && e.pasid === p.pasid),
        );
        programmed.push(...plannedEntries(state, target, device.rid, pasids));
      }
    }
    ioasids.push(io);
  }
  checkLocalClaims(image, ioasids);

  const kvmMappings = image.kvmGuestPasids.map((guestPasid) => {
    if (!host.enqcmd) fail('CAPABILITY_MISSING', `target host ${host.hostId} has no ENQCMD PASID translation for the VM's KVM mappings`);
    const io = localPasids.get(guestPasid);
    if (!io || io.globalPasid === undefined) fail('INVALID_RANGE', `KVM mapping of guest PASID ${guestPasid} has no ioasid behind it`);
    return { guestPasid, hostPasid: io.globalPasid };
  });

  return [
    {
      type: 'FdImported',
      data: {
        fdId: command.fdId,
        tenantId: command.tenantId,
        vmId: image.vmId,
        domainId,
        migrationId: command.migrationId,
        sourceHostId: command.sourceHostId,
        sourceFdId: command.sourceFdId,
        hwidMode: image.hwidMode,
        globalMin: image.globalMin,
        ioasids,
        programmed,
        guestContexts,
        kvmMappings,
        allocatedPasids: plan.allocated,
      },
    },
  ];
}

/**
 * The guest's device ids, kept: each must be well-formed and unique in the image. An attachment
 * of an earlier release's image (no vdevId) gets the next free one, decided here.
 */
function imageVdevIds(image: FdImage): Map<FdImage['ioasids'][number]['attachments'][number], string> {
  const ids = new Map<FdImage['ioasids'][number]['attachments'][number], string>();
  const used = new Set<string>();
  for (const io of image.ioasids) {
    for (const a of Array.isArray(io.attachments) ? io.attachments : []) {
      if (a.vdevId === undefined) continue;
      if (typeof a.vdevId !== 'string' || !VDEV_ID_PATTERN.test(a.vdevId) || used.has(a.vdevId)) fail('INVALID_RANGE', `bad or repeated vdevId ${String(a.vdevId)} in the image`);
      used.add(a.vdevId);
      ids.set(a, a.vdevId);
    }
  }
  for (const io of image.ioasids) {
    for (const a of Array.isArray(io.attachments) ? io.attachments : []) {
      if (ids.has(a)) continue;
      const id = nextVdevId(used);
      used.add(id);
      ids.set(a, id);
    }
  }
  return ids;
}

/** The split is VM state: it must hold in the target's PASID space. */
function checkSplit(host: HostSpec, image: FdImage): void {
  if (image.hwidMode !== null && image.hwidMode !== 'local' && image.hwidMode !== 'global') fail('INVALID_RANGE', 'unknown hwid mode in the image');
  if (image.globalMin === null) return;
  if (image.hwidMode !== 'global') fail('INVALID_RANGE', 'a global-min split needs global hwid mode');
  const max = 2 ** host.pasidBits;
  if (!isIntegerIn(image.globalMin, 1, max)) {
    fail('INVALID_RANGE', `the split at globalMin ${image.globalMin} does not fit the target's PASID space [1, ${max})`, { globalMin: image.globalMin });
  }
}

function mapDevices(state: HostState, host: HostSpec, image: FdImage, deviceMap: Record<Rid, Rid>): MappedIoasid[] {
  const ids = new Set<number>();
  return image.ioasids.map((source) => {
    if (!isIntegerIn(source.ioasid, 1, MAX_IOASID + 1) || ids.has(source.ioasid)) fail('INVALID_RANGE', `bad or repeated ioasid ${source.ioasid} in the image`);
    ids.add(source.ioasid);
    if (!Array.isArray(source.attachments)) fail('INVALID_RANGE', `ioasid ${source.ioasid} has no attachment list`);
    if (source.attachments.length > 0 && image.hwidMode === null) fail('INVALID_RANGE', 'attachments without a hwid mode');
    const devices = source.attachments.map((a) => {
      // checkDeviceMap has made sure every source device maps to a device of this host.
      const device = deviceOf(state, deviceMap[a.rid]!)!;
      if (a.enqcmd === true && image.hwidMode !== 'global') fail('INVALID_RANGE', 'an enqcmd attachment outside global mode');
      if (a.enqcmd === true && !host.enqcmd) fail('CAPABILITY_MISSING', `target host ${host.hostId} has no ENQCMD PASID translation`);
      if (device.kind === 'vf') {
        if (state.hw.vfOwnerOf(device.rid) !== undefined) fail('DEVICE_BUSY', `target vf ${device.rid} is attached to another fd`, { rid: device.rid });
      }
      return { device, enqcmd: a.enqcmd === true };
    });
    return { source, devices };
  });
}

function checkPasidTable(
  host: HostSpec,
  image: FdImage,
  source: FdImage['ioasids'][number],
  devices: MappedIoasid['devices'],
  deviceMap: Record<Rid, Rid>,
): void {
  if (image.hwidMode !== 'local') fail('INVALID_RANGE', 'a guest PASID table outside local mode');
  if (!host.nestedPasidTable) fail('CAPABILITY_MISSING', `target host ${host.hostId} cannot walk a guest PASID table`);
  if (source.pasid !== undefined) fail('INVALID_RANGE', `ioasid ${source.ioasid} has both a PASID table and a hwid`);
  const siov = devices.find((d) => d.device.kind !== 'vf');
  if (siov) fail('CAPABILITY_MISSING', `target ${siov.device.rid} is siov: it needs its PASID table in host memory`);
  for (const other of image.ioasids) {
    if (other.ioasid === source.ioasid) continue;
    const shared = other.attachments.find((a) => devices.some(({ device }) => device.rid === deviceMap[a.rid]));
    if (shared) fail('DEVICE_BUSY', `${deviceMap[shared.rid]} would serve a guest PASID table and ioasid ${other.ioasid}`);
  }
}

function allocateHostPasid(
  host: HostSpec,
  image: FdImage,
  io: ImportedIoasid,
  devices: MappedIoasid['devices'],
  plan: PasidPlan,
  localPasids: Map<number, ImportedIoasid>,
): void {
  const pasid = io.pasid!;
  const hostMax = 2 ** host.pasidBits;
  if (!isIntegerIn(pasid, 1, hostMax)) fail('PASID_WIDTH_EXCEEDED', `user PASID ${pasid} does not fit the target's PASID space [1, ${hostMax})`, { pasid });
  if (image.hwidMode === 'global') {
    if (image.globalMin === null || pasid >= image.globalMin) fail('INVALID_RANGE', `user PASID ${pasid} is not below the split`);
    if (localPasids.has(pasid)) fail('INVALID_RANGE', `local PASID ${pasid} is the hwid of two ioasids in the image`);
    localPasids.set(pasid, io);
    const max = 2 ** Math.min(host.pasidBits, ...devices.map((d) => d.device.pasidBits));
    if (image.globalMin >= max) fail('PASID_WIDTH_EXCEEDED', `no global PASID from ${image.globalMin} fits the target devices (below ${max})`);
    io.globalPasid = plan.take(image.globalMin, max, `the global PASID of ioasid ${io.ioasid}`);
    return;
  }
  const siov = devices.filter((d) => d.device.kind === 'siov');
  if (image.hwidMode === 'local' && siov.length > 0) {
    io.realPasid = plan.take(1, 2 ** Math.min(host.pasidBits, ...siov.map((d) => d.device.pasidBits)), `the real PASID of ioasid ${io.ioasid}`);
  }
  if (image.hwidMode === null) fail('INVALID_RANGE', `ioasid ${io.ioasid} has a hwid but the image has no hwid mode`);
}

/** Local mode: a user PASID stays unique per target vf RID (I2). */
function checkLocalClaims(image: FdImage, ioasids: ImportedIoasid[]): void {
  if (image.hwidMode !== 'local') return;
  const claims = new Set<string>();
  for (const io of ioasids) {
    if (io.pasid === undefined) continue;
    for (const a of io.attachments) {
      if (a.mdevId !== undefined) continue;
      const key = `${a.rid}|${io.pasid}`;
      if (claims.has(key)) fail('PASID_IN_USE', `PASID ${io.pasid} would be the hwid of two ioasids on ${a.rid}`, { rid: a.rid, pasid: io.pasid });
      claims.add(key);
    }
  }
}
