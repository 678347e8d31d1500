import assert from 'node:assert/strict';
import { expectStatus, readUntil, registerHost, unique, type ApiClient } from '../support/app';

/** Source devices of the ENQCMD VM and the target devices they move to. */
export const SOURCE_RIDS = ['0000:3b:00.1', '0000:3b:00.2'] as const;
export const TARGET_RIDS = ['0000:5e:00.1', '0000:5e:00.2'] as const;
/** A third target device, used by another VM that holds global PASIDs there. */
export const TARGET_OTHER_RID = '0000:5e:00.3';
export const DEVICE_MAP: Record<string, string> = { [SOURCE_RIDS[0]]: TARGET_RIDS[0], [SOURCE_RIDS[1]]: TARGET_RIDS[1] };
export const SPLIT = 1024;

export function registerSource(op: ApiClient, options: { enqcmd?: boolean } = {}): Promise<string> {
  return registerHost(op, {
    hostId: unique('source'),
    enqcmd: options.enqcmd ?? true,
    devices: [...SOURCE_RIDS.map((rid) => ({ rid, kind: 'vf' as const })), { rid: '0000:3b:00.5', kind: 'siov' as const }],
  });
}

export function registerTarget(op: ApiClient, options: { enqcmd?: boolean } = {}): Promise<string> {
  return registerHost(op, {
    hostId: unique('target'),
    enqcmd: options.enqcmd ?? true,
    devices: [...TARGET_RIDS, TARGET_OTHER_RID].map((rid) => ({ rid, kind: 'vf' as const })),
  });
}

/**
 * The VM of seed scenario 3, a little richer: global mode split at 1024; ioasid 1 (guest
 * PASID 5) on both vfs with ENQCMD, ioasid 2 (guest PASID 9) on the first vf with ENQCMD and
 * on the second without (programmed at the local and the global PASID); both page tables
 * bound; KVM maps both guest PASIDs to their global PASIDs. Returns the fd id.
 */
export async function enqcmdVm(client: ApiClient, hostId: string, vmId = unique('vm')): Promise<string> {
  const created = await client.post('/v1/fds', { hostId, vmId });
  expectStatus(created, 201);
  const fd = `/v1/fds/${created.body.fdId}`;
  expectStatus(await client.put(`${fd}/hwid-mode`, { mode: 'global' }), 200);
  expectStatus(await client.put(`${fd}/global-min`, { globalMin: SPLIT }), 200);
  const ioasids = [
    { guestPasid: 5, gpa: '0x7f0000', enqcmd: [true, true] },
    { guestPasid: 9, gpa: '0x800000', enqcmd: [true, false] },
  ];
  for (const [index, io] of ioasids.entries()) {
    const ioasid = index + 1;
    expectStatus(await client.post(`${fd}/ioasids`), 201);
    for (const [i, rid] of SOURCE_RIDS.entries()) {
      expectStatus(await client.post(`${fd}/ioasids/${ioasid}/attachments`, { rid, enqcmd: io.enqcmd[i] }), 201);
    }
    const hwid = await client.put(`${fd}/ioasids/${ioasid}/hwid`, { pasid: io.guestPasid });
    expectStatus(hwid, 200);
    expectStatus(await client.put(`${fd}/ioasids/${ioasid}/pgtable`, { gpa: io.gpa }), 200);
    expectStatus(await client.put(`${fd}/kvm-pasid-mappings/${io.guestPasid}`, { hostPasid: hwid.body.globalPasid }), 200);
  }
  return created.body.fdId;
}

/** Another VM on the target in global mode, holding `count` global PASIDs of its pool on TARGET_OTHER_RID. */
export async function occupyGlobalPool(client: ApiClient, hostId: string, count: number): Promise<number[]> {
  const created = await client.post('/v1/fds', { hostId, vmId: unique('neighbour') });
  expectStatus(created, 201);
  const fd = `/v1/fds/${created.body.fdId}`;
  expectStatus(await client.put(`${fd}/hwid-mode`, { mode: 'global' }), 200);
  expectStatus(await client.put(`${fd}/global-min`, { globalMin: SPLIT }), 200);
  const held: number[] = [];
  for (let ioasid = 1; ioasid <= count; ioasid++) {
    expectStatus(await client.post(`${fd}/ioasids`), 201);
    expectStatus(await client.post(`${fd}/ioasids/${ioasid}/attachments`, { rid: TARGET_OTHER_RID }), 201);
    const hwid = await client.put(`${fd}/ioasids/${ioasid}/hwid`, { pasid: ioasid });
    expectStatus(hwid, 200);
    held.push(hwid.body.globalPasid);
  }
  return held;
}

/** What the guest sees of an fd: its view without ids, host PASIDs and version, devices renamed through `deviceMap`. */
export function guestVisible(view: any, deviceMap: Record<string, string> = {}): unknown {
  return {
    vmId: view.vmId,
    tenantId: view.tenantId,
    hwidMode: view.hwidMode,
    globalMin: view.globalMin,
    migratable: view.migratable,
    ioasids: view.ioasids.map(({ globalPasid: _host, attachments, ...io }: any) => ({
      ...io,
      attachments: attachments.map((a: any) => ({ ...a, rid: deviceMap[a.rid] ?? a.rid })),
    })),
    kvmGuestPasids: view.kvmMappings.map((m: any) => m.guestPasid),
  };
}

/** A host as a test compares it before and after: its stream head and its hardware hash at that head (replayed from the store). */
export async function hostFingerprint(op: ApiClient, hostId: string): Promise<{ version: number; hash: string }> {
  const host = await op.get(`/v1/hosts/${hostId}`);
  expectStatus(host, 200);
  const hardware = await op.get(`/v1/hosts/${hostId}/hardware?version=${host.body.version}`);
  expectStatus(hardware, 200);
  return { version: host.body.version, hash: hardware.body.hash };
}

/** The live hardware projection once it has caught up with the host's stream. */
export async function liveHardware(op: ApiClient, hostId: string): Promise<any> {
  const host = await op.get(`/v1/hosts/${hostId}`);
  expectStatus(host, 200);
  const hardware = await readUntil(() => op.get(`/v1/hosts/${hostId}/hardware`), (r) => r.status === 200 && r.body.version === host.body.version);
  assert.equal(hardware.body.version, host.body.version, 'the projection catches up');
  return hardware.body;
}

/** Hash chain and full replay agree with the live state. */
export async function assertVerified(op: ApiClient, hostId: string): Promise<void> {
  await liveHardware(op, hostId);
  const verify = await op.get(`/v1/hosts/${hostId}/verify`);
  expectStatus(verify, 200);
  assert.equal(verify.body.ok, true, `host ${hostId} verifies: ${verify.text}`);
}

/** Every (rid, pasid) entry of a hardware view that belongs to `fdId`. */
export function entriesOf(hardware: any, fdId: string): Array<{ rid: string; pasid: number; entry: any }> {
  return Object.entries(hardware.rids as Record<string, any>).flatMap(([rid, r]) =>
    Object.entries(r.pasids as Record<string, any>)
      .filter(([, entry]) => entry.fdId === fdId)
      .map(([pasid, entry]) => ({ rid, pasid: Number(pasid), entry })),
  );
}

/** The open fds of a VM on every host, as its tenant lists them. */
export async function openFdsOfVm(client: ApiClient, vmId: string): Promise<any[]> {
  const list = await client.get('/v1/fds');
  expectStatus(list, 200);
  return list.body.fds.filter((fd: any) => fd.vmId === vmId);
}
