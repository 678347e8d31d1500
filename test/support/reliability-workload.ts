import { setTimeout as sleep } from 'node:timers/promises';
import assert from 'node:assert/strict';
import type { RetryingClient } from './reliability-client';

/** RELIABILITY_SCALE (default 1): multiplies the work of the reliability suites; CI runs 1. */
export function reliabilityScale(): number {
  const raw = Number(process.env.RELIABILITY_SCALE ?? '1');
  return Number.isFinite(raw) && raw >= 1 ? Math.floor(raw) : 1;
}

/** The hosts of a load: ENQCMD hosts with one vf per VM and a shared siov parent. */
export interface LoadHost {
  hostId: string;
  vfs: string[];
  siov: string;
}

export function loadHosts(prefix: string, count: number, vmsPerHost: number): LoadHost[] {
  return Array.from({ length: count }, (_, h) => ({
    hostId: `${prefix}-h${h}`,
    vfs: Array.from({ length: vmsPerHost }, (_, v) => `0000:${(0x10 + v).toString(16).padStart(2, '0')}:00.1`),
    siov: '0000:5e:00.0',
  }));
}

export function hostBody(host: LoadHost, pasidBits = 20) {
  return {
    hostId: host.hostId,
    pasidBits,
    enqcmd: true,
    nestedPasidTable: true,
    devices: [...host.vfs.map((rid) => ({ rid, kind: 'vf', pasidBits })), { rid: host.siov, kind: 'siov', pasidBits }],
  };
}

export const GLOBAL_MIN = 1024;

export interface VmScript {
  client: RetryingClient;
  host: LoadHost;
  /** This VM's own vf on the host. */
  vf: string;
  vmId: string;
  /** Prefix of every Idempotency-Key of this VM: keys are unique per logical command. */
  keyPrefix: string;
  /** Rounds of alloc / attach / set-hwid / KVM map (and every third round a release). */
  rounds: number;
  /** Set by the caller to stop early (never needed in a passing run). */
  stop?: AbortSignal;
}

/**
 * What one VM's orchestrator does in global mode: open an fd, choose the mode and split, then in
 * rounds allocate an ioasid, attach its vf (and on even rounds an enqcmd siov mdev), set the hwid
 * (the host allocates the global PASID), bind a page table (entries are programmed), map it in KVM; every third round detach and free an
 * earlier ioasid, so releases run too. No command of a VM conflicts with another VM's, so in a
 * correct service every command eventually succeeds. Stops at the first command that fails.
 */
export async function runVmScript(s: VmScript): Promise<void> {
  let n = 0;
  const key = () => `${s.keyPrefix}-${++n}`;
  const ok = async (method: string, path: string, body?: unknown) => {
    const r = await s.client.command(method, path, key(), body);
    if (r.status < 200 || r.status >= 300) throw new Error(`${method} ${path}: ${r.status} ${JSON.stringify(r.answer)}`);
    return r.answer;
  };
  const fd = await ok('POST', '/v1/fds', { hostId: s.host.hostId, vmId: s.vmId });
  const fdPath = `/v1/fds/${fd.fdId}`;
  await ok('PUT', `${fdPath}/hwid-mode`, { mode: 'global' });
  await ok('PUT', `${fdPath}/global-min`, { globalMin: GLOBAL_MIN });
  const live: Array<{ ioasid: number; mdevId?: string }> = [];
  for (let round = 1; round <= s.rounds && !s.stop?.aborted; round++) {
    const { ioasid } = await ok('POST', `${fdPath}/ioasids`);
    const io = `${fdPath}/ioasids/${ioasid}`;
    await ok('POST', `${io}/attachments`, { rid: s.vf });
    const mdev = round % 2 === 0 ? await ok('POST', `${io}/attachments`, { rid: s.host.siov, enqcmd: true }) : undefined;
    // The local PASID is the round: distinct per fd and below the split.
    const hwid = await ok('PUT', `${io}/hwid`, { pasid: round });
    await ok('PUT', `${io}/pgtable`, { gpa: `0x${(round * 0x200000).toString(16)}` });
    await ok('PUT', `${fdPath}/kvm-pasid-mappings/${hwid.pasid}`, { hostPasid: hwid.globalPasid });
    live.push({ ioasid, mdevId: mdev?.mdevId });
    if (round % 3 === 0) {
      const victim = live.shift()!;
      const victimPath = `${fdPath}/ioasids/${victim.ioasid}`;
      await ok('DELETE', `${victimPath}/attachments/${s.vf}`);
      if (victim.mdevId) await ok('DELETE', `${victimPath}/attachments/${s.host.siov}?mdevId=${victim.mdevId}`);
      await ok('DELETE', victimPath);
    }
    await sleep(0);
  }
}

/** How many commands one VM script sends (runVmScript), replayed on its release queue. */
export function commandsPerVm(rounds: number): number {
  let n = 3;
  const live: boolean[] = [];
  for (let round = 1; round <= rounds; round++) {
    const withMdev = round % 2 === 0;
    n += 5 + (withMdev ? 1 : 0);
    live.push(withMdev);
    if (round % 3 === 0) n += 2 + (live.shift() ? 1 : 0);
  }
  return n;
}

/** Registers the hosts and two tenants (`<prefix>-tenant-a`, `-b`) through the operator's client; returns the tenants' tokens. */
export async function setUpLoad(operator: RetryingClient, hosts: LoadHost[], prefix: string): Promise<string[]> {
  for (const h of hosts) assert.equal((await operator.command('POST', '/v1/hosts', `host-${h.hostId}`, hostBody(h))).status, 201);
  const tenants: string[] = [];
  for (const name of [`${prefix}-tenant-a`, `${prefix}-tenant-b`]) {
    const created = await operator.command('POST', '/v1/tenants', `tenant-${name}`, { name });
    assert.equal(created.status, 201);
    tenants.push(created.answer.token as string);
  }
  return tenants;
}

/** One VM script per client: client i drives VM i on host i mod hosts, with its own vf there. */
export function runVmScripts(clients: RetryingClient[], hosts: LoadHost[], keyPrefix: string, rounds: number): Promise<Array<PromiseSettledResult<void>>> {
  return Promise.allSettled(
    clients.map((client, i) =>
      runVmScript({
        client,
        host: hosts[i % hosts.length],
        vf: hosts[i % hosts.length].vfs[Math.floor(i / hosts.length)],
        vmId: `vm-${i}`,
        keyPrefix: `${keyPrefix}-vm${i}`,
        rounds,
      }),
    ),
  );
}
