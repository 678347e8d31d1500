import { emptyHostState, type HostState as DeciderState } from '../domain/state';
import { hostStateSnapshot, restoreHostState, type HostStateSnapshot } from '../domain/snapshot';
import { HostHardware } from '../hardware/host-hardware';
import type { HardwareSnapshot, LoadableHardwareSnapshot } from '../hardware/snapshot';

/**
 * Where the decider meets the emulated hardware: the domain declares the hardware port it
 * reads (src/domain/hardware-port.ts) and never imports src/hardware; this module injects the
 * concrete HostHardware. A HostState made here offers the hardware's whole surface (hash,
 * view, snapshot) to the layers above; `decide`/`evolve` accept it as it is.
 */
export type HostState = DeciderState<HostHardware>;

export function initialHostState(): HostState {
  return emptyHostState(HostHardware.empty());
}

export function serializeHostState(state: HostState): HostStateSnapshot<HardwareSnapshot> {
  return hostStateSnapshot(state, state.hw.toSnapshot());
}

export function deserializeHostState(json: unknown): HostState {
  return restoreHostState(json, (hardware) => HostHardware.fromSnapshot(hardware as LoadableHardwareSnapshot));
}
