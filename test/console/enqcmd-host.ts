import { expectStatus, readUntil, type ApiClient } from '../support/app';

export const RIDS = ['0000:3b:00.1', '0000:3b:00.2'] as const;

export interface EnqcmdHost {
  hostId: string;
  tenantId: string;
  tenant: ApiClient;
  fdId: string;
  globalPasid: number;
}

/**
 * The README's ENQCMD scenario (test/api/enqcmd-scenario.test.ts), built through the REST API:
 * a tenant's VM in global hwid mode split at 1024, ioasid 1 on two enqcmd VFs with guest
 * PASID 5, its page table and the KVM translation; 10 events on the host, all projected.
 */
export async function enqcmdHost(op: ApiClient, hostId = 'host-a', tenantName = 'acme'): Promise<EnqcmdHost> {
  const created = await op.post('/v1/tenants', { name: tenantName });
  expectStatus(created, 201);
  const tenant = op.as(created.body.token);
  expectStatus(
    await op.post('/v1/hosts', {
      hostId,
      pasidBits: 20,
      enqcmd: true,
      nestedPasidTable: false,
      devices: RIDS.map((rid) => ({ rid, kind: 'vf', pasidBits: 20 })),
    }),
    201,
  );
  const fd = await tenant.post('/v1/fds', { hostId, vmId: 'vm-1' });
  expectStatus(fd, 201);
  const path = `/v1/fds/${fd.body.fdId}`;
  expectStatus(await tenant.put(`${path}/hwid-mode`, { mode: 'global' }), 200);
  expectStatus(await tenant.put(`${path}/global-min`, { globalMin: 1024 }), 200);
  expectStatus(await tenant.post(`${path}/ioasids`), 201);
  for (const rid of RIDS) expectStatus(await tenant.post(`${path}/ioasids/1/attachments`, { rid, enqcmd: true }), 201);
  const hwid = await tenant.put(`${path}/ioasids/1/hwid`, { pasid: 5 });
  expectStatus(hwid, 200);
  expectStatus(await tenant.put(`${path}/ioasids/1/pgtable`, { gpa: '0x7f0000' }), 200);
  expectStatus(await tenant.put(`${path}/kvm-pasid-mappings/5`, { hostPasid: hwid.body.globalPasid }), 200);
  await projectedAt(op, hostId, 10);
  return { hostId, tenantId: created.body.tenantId, tenant, fdId: fd.body.fdId, globalPasid: hwid.body.globalPasid };
}

/** The host's hardware view once the projection has applied `version`. */
export async function projectedAt(op: ApiClient, hostId: string, version: number) {
  const hw = await readUntil(() => op.get(`/v1/hosts/${hostId}/hardware`), (r) => r.status === 200 && r.body.version >= version);
  expectStatus(hw, 200);
  return hw.body;
}
