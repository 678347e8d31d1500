import type { HostCommand, HostEvent } from '../../src/model';
import { decide, evolve } from '../../src/domain';
import { initialHostState, type HostState } from '../../src/composition/host-state';

const UNLIMITED = { quotasFor: () => ({ maxFds: Number.MAX_SAFE_INTEGER, maxHostPasids: Number.MAX_SAFE_INTEGER }) };

/** Runs commands through the real decider, keeping every event: how the benchmarks get valid logs. */
export class HostDriver {
  readonly state: HostState = initialHostState();
  readonly events: HostEvent[] = [];

  constructor(private readonly keepEvents: boolean) {}

  run(command: HostCommand): HostEvent[] {
    const events = decide(command, this.state, UNLIMITED);
    for (const event of events) {
      evolve(this.state, event);
      if (this.keepEvents) this.events.push(event);
    }
    return events;
  }
}

export function vfRid(i: number): string {
  return `0000:${(i >> 8).toString(16).padStart(2, '0')}:${((i >> 3) & 31).toString(16).padStart(2, '0')}.${i & 7}`;
}
