import type { HwState } from './types';

/**
 * Heap bytes per item of the emulated hardware, measured with bench:domain's method (heap with
 * the hardware alive minus heap once dropped, over 2,000 hosts of 4 and of 10 PASIDs, and one
 * host of 1M PASIDs), rounded up. Estimates for cache accounting: they grow with what the host
 * holds. The per-fd ioasid and local -> global tables report their own size (typed arrays whose
 * capacity the estimate reads, heap-costs.ts).
 */
const HOST_BYTES = 5120;
const DEVICE_BYTES = 600;
const FD_BYTES = 1024;
/** The allocator bit and owner words of a host PASID (pages of 128 owners). */
const HELD_PASID_BYTES = 12;
/** An ioasid's count of attachments or of entries per RID (a Map per ioasid that has some, PairCounts). */
const PAIR_COUNTS_BYTES = 272;
const ENTRY_BYTES = 250;
const MDEV_BYTES = 150;
const KVM_MAPPING_BYTES = 100;

/** The approximate heap of a host's emulated hardware; costs one step per device and per fd. */
export function hardwareFootprint(s: HwState): number {
  let bytes = HOST_BYTES + s.rids.size * DEVICE_BYTES;
  for (const fd of s.fds.values()) {
    bytes += FD_BYTES + fd.ioasids.approximateBytes() + fd.localToGlobal.approximateBytes() + (fd.attached.size + fd.entriesOn.size) * PAIR_COUNTS_BYTES;
    bytes += fd.heldPasids * HELD_PASID_BYTES + fd.entries * ENTRY_BYTES + fd.mdevs * MDEV_BYTES;
    bytes += (s.kvm.get(fd.fdId)?.size ?? 0) * KVM_MAPPING_BYTES;
  }
  return bytes;
}
