import { Injectable } from '@nestjs/common';
import type { EventEnvelope } from '../model/envelope';
import { redactForTenant } from '../model/tenant-redaction';
import type { Rid } from '../model/values';
import { HostDirectory } from '../store/host-directory';

/**
 * The envelopes a tenant is handed (the audit log, gRPC ListEvents, any stream of them): each
 * through `redactForTenant`, with its host's siov RIDs read from the host directory.
 */
@Injectable()
export class TenantEventCopies {
  constructor(private readonly hosts: HostDirectory) {}

  async of(envelopes: EventEnvelope[]): Promise<EventEnvelope[]> {
    const siov = new Map<string, Set<Rid>>();
    for (const hostId of new Set(envelopes.map((e) => e.hostId))) {
      const entry = await this.hosts.get(hostId);
      // A host missing from the directory has no entry here: every RID of it counts as siov, never as safe to show.
      if (entry) siov.set(hostId, new Set(entry.registration.devices.filter((d) => d.kind === 'siov').map((d) => d.rid)));
    }
    return envelopes.map((e) => {
      const rids = siov.get(e.hostId);
      return redactForTenant(e, (rid) => rids === undefined || rids.has(rid));
    });
  }
}
