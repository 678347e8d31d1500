import type { Rid } from '../../model/values';
import type { FdImage } from '../../model/views';
import { deviceOf, type HostState } from '../state';
import { fail } from './guards';

/** Why an entry of a migration's device map is refused (API.md DEVICE_MAP_INVALID `details.entries[].problem`). */
export type DeviceMapProblem = 'TARGET_SHARED' | 'SOURCE_MISSING' | 'SOURCE_UNKNOWN' | 'TARGET_UNKNOWN' | 'KIND_MISMATCH' | 'TOO_NARROW';

export interface DeviceMapOffence {
  source: Rid;
  target?: Rid;
  problem: DeviceMapProblem;
}

/**
 * The device map of an import (source RID -> target RID), checked whole before anything else
 * about the devices: one-to-one, covering every source device the image attaches, each target
 * a device of this host of the source device's kind and at least its PASID width (the width the
 * guest was shown). Refuses with every offending entry named, so a caller fixes the map in one go.
 */
export function checkDeviceMap(state: HostState, image: FdImage, deviceMap: Record<Rid, Rid>): void {
  const offences: DeviceMapOffence[] = [];
  const sourcesOf = new Map<Rid, Rid[]>();
  for (const [source, target] of Object.entries(deviceMap)) {
    if (typeof target !== 'string') {
      offences.push({ source, problem: 'TARGET_UNKNOWN' });
      continue;
    }
    sourcesOf.set(target, [...(sourcesOf.get(target) ?? []), source]);
  }
  for (const [target, sources] of sourcesOf) {
    if (sources.length > 1) for (const source of sources) offences.push({ source, target, problem: 'TARGET_SHARED' });
  }
  const seen = new Set<Rid>();
  for (const io of image.ioasids) {
    for (const a of Array.isArray(io.attachments) ? io.attachments : []) {
      if (seen.has(a.rid)) continue;
      seen.add(a.rid);
      const target = Object.prototype.hasOwnProperty.call(deviceMap, a.rid) ? deviceMap[a.rid] : undefined;
      if (target === undefined) {
        offences.push({ source: a.rid, problem: 'SOURCE_MISSING' });
        continue;
      }
      if (typeof target !== 'string') continue;
      const device = deviceOf(state, target);
      if (!device) offences.push({ source: a.rid, target, problem: 'TARGET_UNKNOWN' });
      else if (a.kind !== undefined && a.kind !== device.kind) offences.push({ source: a.rid, target, problem: 'KIND_MISMATCH' });
      else if (a.pasidBits !== undefined && device.pasidBits < a.pasidBits) offences.push({ source: a.rid, target, problem: 'TOO_NARROW' });
    }
  }
  refuseDeviceMap(offences);
}

/** DEVICE_MAP_INVALID naming every offence, if there is any. */
export function refuseDeviceMap(offences: DeviceMapOffence[]): void {
  if (offences.length > 0) {
    const list = offences.map((o) => `${o.source}${o.target !== undefined ? ` -> ${o.target}` : ''}: ${o.problem}`).join('; ');
    fail('DEVICE_MAP_INVALID', `the device map is refused: ${list}`, { entries: offences });
  }
}
