export { PasidAllocator } from './allocator';
export { HardwareFault, HARDWARE_INVARIANTS, STRUCTURAL_FAULTS } from './fault';
export type { HardwareInvariant, StructuralFault } from './fault';
export { HostHardware, replayHardware } from './host-hardware';
export type { HardwareSnapshot, HardwareSnapshotV1, HardwareSnapshotV2, LoadableHardwareSnapshot } from './snapshot';
export { parseVmViewKey } from './vm-key';
export type { HardwareView, EntryView } from '../model/views';
