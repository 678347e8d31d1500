import type { Actor } from '../../src/model/envelope';
import type { HostEvent } from '../../src/model/events';
import type { AppendRequest } from '../../src/store/append-request';

/** Hand-made host events for store tests: the store keeps them as they are, it never decides. */
export const hostRegistered = (hostId: string): HostEvent => ({
  type: 'HostRegistered',
  data: { hostId, pasidBits: 20, enqcmd: true, nestedPasidTable: false, devices: [{ rid: '0000:3b:00.0', kind: 'vf', pasidBits: 20 }] },
});
export const fdCreated = (fdId: string, tenantId: string, vmId = `vm-${fdId}`): HostEvent => ({
  type: 'FdCreated',
  data: { fdId, tenantId, vmId, domainId: 1 },
});
export const ioasidAllocated = (fdId: string, ioasid: number): HostEvent => ({ type: 'IoasidAllocated', data: { fdId, ioasid } });
export const fdClosed = (fdId: string): HostEvent => ({
  type: 'FdClosed',
  data: { fdId, released: { pasids: [], entries: [], contexts: [], kvmGuestPasids: [], mdevs: [] } },
});

let commands = 0;

/** An append request with fresh command ids. */
export function appendOf(hostId: string, expectedVersion: number, events: HostEvent[], extra: Partial<AppendRequest> = {}): AppendRequest {
  const commandId = `cmd-${++commands}`;
  return { hostId, expectedVersion, events, actor: 'operator' as Actor, commandId, correlationId: commandId, ...registeredHost(events), ...extra };
}

/** The host a registration describes, as the command runner hands it to the store (the decider state's host after it); {} for other events. */
export function registeredHost(events: readonly HostEvent[]): Pick<AppendRequest, 'host'> {
  return events[0]?.type === 'HostRegistered' ? { host: events[0].data } : {};
}
