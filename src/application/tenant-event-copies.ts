import { Injectable } from '@nestjs/common';
import type { EventEnvelope } from '../model/envelope';
import { redactForTenant } from '../model/tenant-redaction';
import type { DeviceKind, DeviceSpec, HostSpec, Rid } from '../model/values';
import { HostDirectory } from '../store/host-directory';

/** Hands out one tenant copy of an envelope at a time, reading each host's devices once. */
export type TenantCopier = (envelope: EventEnvelope) => Promise<EventEnvelope>;

/**
 * The envelopes a tenant is handed (the audit log, gRPC ListEvents, the watch over SSE and
 * gRPC): each through `redactForTenant`, with its host's devices read from the host directory. A
 * RID counts as siov unless it is one of the host's vf now and never was a siov (a device removed
 * and added again as another kind); an unknown RID or host counts as siov, never as safe to show.
 */
@Injectable()
export class TenantEventCopies {
  constructor(private readonly hosts: HostDirectory) {}

  async of(envelopes: EventEnvelope[]): Promise<EventEnvelope[]> {
    const copy = this.copier();
    const out: EventEnvelope[] = [];
    for (const envelope of envelopes) out.push(await copy(envelope));
    return out;
  }

  copier(): TenantCopier {
    // A host missing from the directory has no set: every RID of it counts as siov, never as safe to show.
    const siov = new Map<string, Promise<RidKinds | undefined>>();
    return async (envelope) => {
      let rids = siov.get(envelope.hostId);
      if (!rids) {
        rids = this.hosts.get(envelope.hostId).then((entry) => entry && ridKindsOf(entry.host));
        siov.set(envelope.hostId, rids);
      }
      const known = await rids;
      return redactForTenant(envelope, (rid) => known === undefined || !known.vf.has(rid) || known.siov.has(rid));
    };
  }
}

interface RidKinds {
  /** The host's vf RIDs now. */
  vf: Set<Rid>;
  /** Every RID that is or was a siov on the host. */
  siov: Set<Rid>;
}

function ridKindsOf(host: HostSpec): RidKinds {
  const ridsOf = (devices: DeviceSpec[], kind: DeviceKind) => devices.filter((d) => d.kind === kind).map((d) => d.rid);
  return { vf: new Set(ridsOf(host.devices, 'vf')), siov: new Set([...ridsOf(host.devices, 'siov'), ...ridsOf(host.removedDevices ?? [], 'siov')]) };
}
