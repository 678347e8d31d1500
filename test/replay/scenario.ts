import { setTimeout as sleep } from 'node:timers/promises';
import type { HostCommand } from '../../src/model/commands';
import { decide } from '../../src/domain/decide';
import { eventOf, type Actor, type EventEnvelope } from '../../src/model/envelope';
import { evolve } from '../../src/domain/evolve';
import { DEFAULT_QUOTAS } from '../../src/model/values';
import type { HardwareView } from '../../src/hardware';
import type { EventStore } from '../../src/store/event-store';
import type { SnapshotStore } from '../../src/store/snapshot-store';
import { registeredHost } from '../support/host-events';
import { serializeHostState, initialHostState, type HostState } from '../../src/composition/host-state';

/** The hardware as the write path saw it right after each version (index = version - 1). */
export interface VersionRecord {
  version: number;
  view: HardwareView;
  occurredAt: string;
}

const CTX = { quotasFor: () => DEFAULT_QUOTAS };

export const DEVICES = {
  vf0: '0000:3b:00.0',
  vf1: '0000:3b:00.1',
  vf2: '0000:3b:00.2',
  siov: '0000:5e:00.0',
};

/**
 * One host driven as the application drives it: each command decided on the current state,
 * its events appended through the store with the expected version, then evolved. Records
 * the hardware view after every version, the reference every replay is compared with.
 */
export class ScenarioHost {
  readonly state: HostState = initialHostState();
  readonly versions: VersionRecord[] = [];
  readonly envelopes: EventEnvelope[] = [];
  private commands = 0;

  constructor(
    readonly hostId: string,
    private readonly store: Pick<EventStore, 'append'>,
    /** Pause between commands, so that commands get distinct occurredAt instants (for --at). */
    private readonly pauseMs = 0,
  ) {}

  async run(command: HostCommand, tenantId?: string): Promise<EventEnvelope[]> {
    const events = decide(command, this.state, CTX);
    const commandId = `${this.hostId}-cmd-${++this.commands}`;
    const actor: Actor = tenantId ? `tenant:${tenantId}` : 'operator';
    const envelopes = await this.store.append({
      hostId: this.hostId,
      expectedVersion: this.state.version,
      events,
      ...(tenantId ? { tenantId } : {}),
      actor,
      commandId,
      correlationId: commandId,
      ...registeredHost(events),
    });
    for (const envelope of envelopes) {
      evolve(this.state, eventOf(envelope));
      this.versions.push({ version: envelope.version, view: this.state.hw.view(), occurredAt: envelope.occurredAt });
    }
    this.envelopes.push(...envelopes);
    if (this.pauseMs > 0) await sleep(this.pauseMs);
    return envelopes;
  }

  /** Saves the decider state as the write path's snapshot at the current version. */
  async snapshot(snapshots: SnapshotStore): Promise<number> {
    await snapshots.save(this.hostId, this.state.version, JSON.stringify(serializeHostState(this.state)));
    return this.state.version;
  }

  /** fd ids are global (the fd directory): each host of a suite gets its own. */
  fd(name: string): string {
    return `${this.hostId}-fd-${name}`;
  }

  globalPasidOf(fdId: string, ioasid: number): number {
    return this.state.fds.get(fdId)!.ioasids.get(ioasid)!.globalPasid!;
  }
}

/**
 * A host life touching every kind of hardware change: global and local hwid modes, vf and siov
 * attachments, enqcmd, bound page tables, a guest PASID table, KVM mappings, an exposed real
 * PASID, an aborted migration, detach, free and close. `midway` runs between the two halves
 * (a snapshot, for instance).
 */
export async function runScenario(host: ScenarioHost, midway?: () => Promise<void>): Promise<void> {
  await host.run({
    type: 'RegisterHost',
    hostId: host.hostId,
    pasidBits: 20,
    enqcmd: true,
    nestedPasidTable: true,
    devices: [
      { rid: DEVICES.vf0, kind: 'vf', pasidBits: 20 },
      { rid: DEVICES.vf1, kind: 'vf', pasidBits: 20 },
      { rid: DEVICES.vf2, kind: 'vf', pasidBits: 8 },
      { rid: DEVICES.siov, kind: 'siov', pasidBits: 20 },
    ],
  });
  // fd a: global mode, enqcmd.
  await host.run({ type: 'CreateFd', fdId: host.fd('a'), tenantId: 't1', vmId: 'vm-a' }, 't1');
  await host.run({ type: 'SetHwidMode', fdId: host.fd('a'), mode: 'global' }, 't1');
  await host.run({ type: 'SetGlobalMin', fdId: host.fd('a'), globalMin: 1024 }, 't1');
  await host.run({ type: 'AllocIoasid', fdId: host.fd('a') }, 't1');
  await host.run({ type: 'AttachDevice', fdId: host.fd('a'), ioasid: 1, rid: DEVICES.vf0, enqcmd: false }, 't1');
  await host.run({ type: 'SetHwid', fdId: host.fd('a'), ioasid: 1, pasid: 5 }, 't1');
  await host.run({ type: 'BindPgtable', fdId: host.fd('a'), ioasid: 1, gpa: '0x7f0000' }, 't1');
  await host.run({ type: 'SetKvmPasidMapping', fdId: host.fd('a'), guestPasid: 5, hostPasid: host.globalPasidOf(host.fd('a'), 1) }, 't1');
  await host.run({ type: 'AllocIoasid', fdId: host.fd('a') }, 't1');
  await host.run({ type: 'AttachDevice', fdId: host.fd('a'), ioasid: 2, rid: DEVICES.siov, enqcmd: true }, 't1');
  await host.run({ type: 'SetHwid', fdId: host.fd('a'), ioasid: 2, pasid: 6 }, 't1');
  await host.run({ type: 'BindPgtable', fdId: host.fd('a'), ioasid: 2, gpa: '0x800000' }, 't1');
  // fd b: local mode, vf and siov, the real PASID exposed.
  await host.run({ type: 'CreateFd', fdId: host.fd('b'), tenantId: 't2', vmId: 'vm-b' }, 't2');
  await host.run({ type: 'SetHwidMode', fdId: host.fd('b'), mode: 'local' }, 't2');
  await host.run({ type: 'AllocIoasid', fdId: host.fd('b') }, 't2');
  await host.run({ type: 'AttachDevice', fdId: host.fd('b'), ioasid: 1, rid: DEVICES.vf1, enqcmd: false }, 't2');
  await host.run({ type: 'SetHwid', fdId: host.fd('b'), ioasid: 1, pasid: 9 }, 't2');
  await host.run({ type: 'BindPgtable', fdId: host.fd('b'), ioasid: 1, gpa: '0x900000' }, 't2');
  await host.run({ type: 'AllocIoasid', fdId: host.fd('b') }, 't2');
  await host.run({ type: 'AttachDevice', fdId: host.fd('b'), ioasid: 2, rid: DEVICES.siov, enqcmd: false }, 't2');
  await host.run({ type: 'SetHwid', fdId: host.fd('b'), ioasid: 2, pasid: 11 }, 't2');
  await host.run({ type: 'BindPgtable', fdId: host.fd('b'), ioasid: 2, gpa: '0xa00000' }, 't2');
  await host.run({ type: 'GetHwid', fdId: host.fd('b'), ioasid: 2 }, 't2');
  await midway?.();
  // fd c: a guest-owned PASID table, then a migration that is aborted.
  await host.run({ type: 'CreateFd', fdId: host.fd('c'), tenantId: 't1', vmId: 'vm-c' }, 't1');
  await host.run({ type: 'SetHwidMode', fdId: host.fd('c'), mode: 'local' }, 't1');
  await host.run({ type: 'AllocIoasid', fdId: host.fd('c') }, 't1');
  await host.run({ type: 'AttachDevice', fdId: host.fd('c'), ioasid: 1, rid: DEVICES.vf2, enqcmd: false }, 't1');
  await host.run({ type: 'SetPasidTable', fdId: host.fd('c'), ioasid: 1, gpa: '0xb00000' }, 't1');
  await host.run({ type: 'StartMigration', fdId: host.fd('c'), migrationId: 'mig-1', targetHostId: 'elsewhere' }, 't1');
  await host.run({ type: 'AbortMigration', fdId: host.fd('c'), migrationId: 'mig-1', reason: 'target refused' }, 't1');
  // Tear-down: every release path.
  await host.run({ type: 'UnsetKvmPasidMapping', fdId: host.fd('a'), guestPasid: 5 }, 't1');
  await host.run({ type: 'UnbindPgtable', fdId: host.fd('a'), ioasid: 1 }, 't1');
  await host.run({ type: 'DetachDevice', fdId: host.fd('a'), ioasid: 1, rid: DEVICES.vf0 }, 't1');
  await host.run({ type: 'FreeIoasid', fdId: host.fd('a'), ioasid: 1 }, 't1');
  await host.run({ type: 'CloseFd', fdId: host.fd('b') }, 't2');
  await host.run({ type: 'AllocIoasid', fdId: host.fd('a') }, 't1');
  await host.run({ type: 'AttachDevice', fdId: host.fd('a'), ioasid: 1, rid: DEVICES.vf1, enqcmd: true }, 't1');
  await host.run({ type: 'SetHwid', fdId: host.fd('a'), ioasid: 1, pasid: 7 }, 't1');
  await host.run({ type: 'BindPgtable', fdId: host.fd('a'), ioasid: 1, gpa: '0xc00000' }, 't1');
  await host.run({ type: 'SetKvmPasidMapping', fdId: host.fd('a'), guestPasid: 7, hostPasid: host.globalPasidOf(host.fd('a'), 1) }, 't1');
}
