import type { HwState } from './types';

/**
 * Heap bytes per item of the emulated hardware, measured with bench:domain's method (heap with
 * the hardware alive minus heap once dropped, over 2,000 hosts of bench:fleet and one of 1M
 * PASIDs), rounded up. Estimates for cache accounting: they grow with what the host holds.
 */
const HOST_BYTES = 6144;
const DEVICE_BYTES = 600;
const FD_BYTES = 1536;
const IOASID_BYTES = 70;
const HELD_PASID_BYTES = 30;
const ENTRY_BYTES = 250;
const MDEV_BYTES = 150;
const KVM_MAPPING_BYTES = 100;

/** The approximate heap of a host's emulated hardware; costs one step per device and per fd. */
export function hardwareFootprint(s: HwState): number {
  let bytes = HOST_BYTES + s.rids.size * DEVICE_BYTES;
  for (const fd of s.fds.values()) {
    bytes += FD_BYTES + fd.ioasids.size * IOASID_BYTES + fd.heldPasids * HELD_PASID_BYTES + fd.entries * ENTRY_BYTES + fd.mdevs * MDEV_BYTES;
    bytes += (s.kvm.get(fd.fdId)?.size ?? 0) * KVM_MAPPING_BYTES;
  }
  return bytes;
}
