import type { Rest } from './service-rest';

/** The SIOV device every benchmark host has. */
export const SIOV_RID = '0000:5e:00.0';
const IOASIDS_PER_FD = 4;

/**
 * One fd's life, the benchmarks' unit of load (bench:service, bench:fleet): open an fd for `vmId`
 * on `hostId`, global mode and its split, then IOASIDS_PER_FD times allocate an ioasid, attach
 * the SIOV device and set the hwid (a global PASID), and close the fd. Returns the number of
 * commands (4 + 3 * IOASIDS_PER_FD), each timed into `latencies`.
 */
export async function fdLife(tenant: Rest, hostId: string, vmId: string, latencies: number[]): Promise<number> {
  const fd = await tenant.call('POST', '/v1/fds', { hostId, vmId }, latencies);
  const path = `/v1/fds/${fd.fdId}`;
  await tenant.call('PUT', `${path}/hwid-mode`, { mode: 'global' }, latencies);
  await tenant.call('PUT', `${path}/global-min`, { globalMin: 1024 }, latencies);
  for (let pasid = 1; pasid <= IOASIDS_PER_FD; pasid++) {
    const { ioasid } = await tenant.call('POST', `${path}/ioasids`, undefined, latencies);
    await tenant.call('POST', `${path}/ioasids/${ioasid}/attachments`, { rid: SIOV_RID, enqcmd: false }, latencies);
    await tenant.call('PUT', `${path}/ioasids/${ioasid}/hwid`, { pasid }, latencies);
  }
  await tenant.call('DELETE', path, undefined, latencies);
  return 4 + 3 * IOASIDS_PER_FD;
}
