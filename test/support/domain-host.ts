import assert from 'node:assert/strict';
import {
  DEFAULT_QUOTAS,
  DomainError,
  type DeviceSpec,
  type ErrorCode,
  type HostCommand,
  type HostEvent,
  type Quotas,
} from '../../src/model';
import { decide, evolve, commandResult } from '../../src/domain';
import type { HardwareView } from '../../src/hardware';
import { initialHostState, type HostState } from '../../src/composition/host-state';

/** Distributes Omit over a union, so each command keeps its own fields. */
type WithoutFd<T> = T extends unknown ? Omit<T, 'fdId'> : never;

/**
 * One host driven through decide/evolve the way the application does, for domain tests.
 * Every accepted command's events are checked to survive JSON; every refusal is checked
 * to leave the state untouched.
 */
export class TestHost {
  state: HostState = initialHostState();
  readonly log: HostEvent[] = [];
  readonly quotas = new Map<string, Quotas>();
  readonly ctx = { quotasFor: (tenantId: string) => this.quotas.get(tenantId) ?? DEFAULT_QUOTAS };

  run(command: HostCommand): { events: HostEvent[]; result: unknown } {
    const events = decide(command, this.state, this.ctx);
    assert.deepEqual(JSON.parse(JSON.stringify(events)), events, 'events survive JSON');
    for (const event of events) {
      evolve(this.state, event);
      this.log.push(event);
    }
    return { events, result: commandResult(command, events, this.state) };
  }

  /** Runs and returns the single event the command must produce. */
  one<T extends HostEvent['type']>(command: HostCommand, type: T): Extract<HostEvent, { type: T }> {
    const { events } = this.run(command);
    assert.equal(events.length, 1, `${command.type} produces one event`);
    assert.equal(events[0]!.type, type);
    return events[0] as Extract<HostEvent, { type: T }>;
  }

  refuse(command: HostCommand, code: ErrorCode, message?: RegExp): DomainError {
    const before = { version: this.state.version, hash: this.state.hw.hash() };
    let error: unknown;
    try {
      decide(command, this.state, this.ctx);
    } catch (e) {
      error = e;
    }
    assert.ok(error instanceof DomainError, `${command.type} should be refused with ${code}, got ${String(error)}`);
    assert.equal(error.code, code, `${command.type}: ${error.message}`);
    if (message) assert.match(error.message, message);
    assert.deepEqual({ version: this.state.version, hash: this.state.hw.hash() }, before, 'a refusal changes nothing');
    return error;
  }

  hw(): HardwareView {
    return this.state.hw.view();
  }

  /** PASIDs programmed on a RID, as {pasid: origin}. */
  entriesOn(rid: string): Record<string, string> {
    const out: Record<string, string> = {};
    for (const [pasid, entry] of Object.entries(this.hw().rids[rid]!.pasids)) out[pasid] = entry.origin;
    return out;
  }

  register(spec: { hostId?: string; pasidBits?: number; enqcmd?: boolean; nestedPasidTable?: boolean; devices: DeviceSpec[] }): this {
    this.run({
      type: 'RegisterHost',
      hostId: spec.hostId ?? 'host-a',
      pasidBits: spec.pasidBits ?? 20,
      enqcmd: spec.enqcmd ?? false,
      nestedPasidTable: spec.nestedPasidTable ?? false,
      devices: spec.devices,
    });
    return this;
  }

  /** Commands on one fd without repeating its id. */
  fd(fdId: string) {
    return {
      run: (command: WithoutFd<HostCommand>) => this.run({ ...command, fdId } as HostCommand),
      one: <T extends HostEvent['type']>(command: WithoutFd<HostCommand>, type: T) => this.one({ ...command, fdId } as HostCommand, type),
      refuse: (command: WithoutFd<HostCommand>, code: ErrorCode, message?: RegExp) => this.refuse({ ...command, fdId } as HostCommand, code, message),
    };
  }
}

export const VF1: DeviceSpec = { rid: '0000:3b:00.1', kind: 'vf', pasidBits: 20 };
export const VF2: DeviceSpec = { rid: '0000:3b:00.2', kind: 'vf', pasidBits: 20 };
export const SIOV: DeviceSpec = { rid: '0000:5e:00.0', kind: 'siov', pasidBits: 20 };
