import { Injectable } from '@nestjs/common';
import type { EventEnvelope } from '../model/envelope';
import { redactForTenant } from '../model/tenant-redaction';
import type { Rid } from '../model/values';
import { HostDirectory } from '../store/host-directory';

/** Hands out one tenant copy of an envelope at a time, reading each host's siov RIDs once. */
export type TenantCopier = (envelope: EventEnvelope) => Promise<EventEnvelope>;

/**
 * The envelopes a tenant is handed (the audit log, gRPC ListEvents, the watch over SSE and
 * gRPC): each through `redactForTenant`, with its host's siov RIDs read from the host directory.
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
    const siov = new Map<string, Promise<Set<Rid> | undefined>>();
    return async (envelope) => {
      let rids = siov.get(envelope.hostId);
      if (!rids) {
        rids = this.hosts.get(envelope.hostId).then((entry) => entry && new Set(entry.registration.devices.filter((d) => d.kind === 'siov').map((d) => d.rid)));
        siov.set(envelope.hostId, rids);
      }
      const known = await rids;
      return redactForTenant(envelope, (rid) => known === undefined || known.has(rid));
    };
  }
}
