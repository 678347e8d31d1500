/**
 * Server memory as hosts are added through REST (npm run bench:fleet-rest): the measurement of
 * issue 15, as an operator would make it. Starts the server as `npm start` does (ROLE=all,
 * `node dist/src/main.js` with the 384 MB heap limit; FLEET_REST_NODE_OPTIONS replaces it) on a scratch
 * PostgreSQL database, then registers FLEET_REST_HOSTS ENQCMD hosts (default 5,000), 16 at a
 * time, each with one VM fd in global mode holding 4 global PASIDs with their device attached
 * (16 requests a host). After every FLEET_REST_STEP hosts (default 500) it samples the server's
 * RSS (/proc) and its V8 heap in use (/metrics). The first sample, before any host, is the
 * baseline. Prints a table, then one JSON line last: the RSS at the start and at the end, and
 * the growth per host over the second half of the run (once the process has warmed up).
 *
 * Environment: FLEET_REST_HOSTS, FLEET_REST_STEP, FLEET_REST_NODE_OPTIONS, FLEET_REST_SERVER_DIR
 * (another checkout whose build runs instead of this one, to compare releases), TEST_PG_URL.
 */
import { Agent } from 'node:http';
import { createTestDatabase } from '../test/support/postgres';
import { startServer, waitFor200 } from '../test/support/server-process';
import { heapUsedMB, rssMB } from './support/process-memory';
import { Rest } from './support/service-rest';

const HOSTS = Number(process.env.FLEET_REST_HOSTS ?? 5000);
const STEP = Number(process.env.FLEET_REST_STEP ?? 500);
const CLIENTS = 16;
const IOASIDS_PER_FD = 4;
const SIOV_RID = '0000:6a:00.0';
const OPERATOR_TOKEN = 'fleet-rest-operator-token';

interface Sample {
  hosts: number;
  seconds: number;
  rssMB: number;
  heapMB: number;
}



/** One host as an orchestrator brings it up: registered, then a VM's fd holding 4 global PASIDs. */
async function addHost(operator: Rest, tenant: Rest, i: number): Promise<void> {
  const hostId = `rest-host-${i}`;
  await operator.call('POST', '/v1/hosts', { hostId, pasidBits: 20, enqcmd: true, nestedPasidTable: false, devices: [{ rid: SIOV_RID, kind: 'siov', pasidBits: 20 }] });
  const fd = await tenant.call('POST', '/v1/fds', { hostId, vmId: `vm-${i}` });
  const path = `/v1/fds/${fd.fdId}`;
  await tenant.call('PUT', `${path}/hwid-mode`, { mode: 'global' });
  await tenant.call('PUT', `${path}/global-min`, { globalMin: 1024 });
  for (let pasid = 1; pasid <= IOASIDS_PER_FD; pasid++) {
    const { ioasid } = await tenant.call('POST', `${path}/ioasids`, undefined);
    await tenant.call('POST', `${path}/ioasids/${ioasid}/attachments`, { rid: SIOV_RID, enqcmd: false });
    await tenant.call('PUT', `${path}/ioasids/${ioasid}/hwid`, { pasid });
  }
}

async function main(): Promise<void> {
  const db = await createTestDatabase('ioasid_fleet_rest');
  const env: Record<string, string> = { DATABASE_URL: db.url, OPERATOR_TOKEN, LOG_LEVEL: 'warn' };
  // npm start's flag, as NODE_OPTIONS (`none`: no limit, as before npm start passed one).
  const nodeOptions = process.env.FLEET_REST_NODE_OPTIONS ?? '--max-old-space-size=384';
  if (nodeOptions !== 'none') env.NODE_OPTIONS = nodeOptions;
  const serverDir = process.env.FLEET_REST_SERVER_DIR;
  const server = await startServer(env, serverDir);
  const agent = new Agent({ keepAlive: true, maxSockets: CLIENTS });
  const samples: Sample[] = [];
  try {
    await waitFor200(server, '/readyz');
    const operator = new Rest(server.url, OPERATOR_TOKEN, agent);
    const { token } = await operator.call('POST', '/v1/tenants', { name: 'fleet-rest', quotas: { maxFds: 1_000_000, maxHostPasids: 1_000_000 } });
    const tenant = new Rest(server.url, token, agent);
    const start = Date.now();
    const sample = async (hosts: number) =>
      samples.push({ hosts, seconds: (Date.now() - start) / 1000, rssMB: rssMB(server.child.pid!), heapMB: await heapUsedMB(server.url) });
    await sample(0);
    for (let added = 0; added < HOSTS; ) {
      const upTo = Math.min(HOSTS, added + STEP);
      let next = added;
      await Promise.all(Array.from({ length: CLIENTS }, async () => {
        while (next < upTo) await addHost(operator, tenant, next++);
      }));
      added = upTo;
      await sample(added);
    }
  } finally {
    agent.destroy();
    server.child.kill('SIGTERM');
    await server.exited;
    await db.drop();
  }
  console.log(`server memory as hosts are added through REST: ${HOSTS} hosts, each one VM fd with ${IOASIDS_PER_FD} global PASIDs; PostgreSQL; NODE_OPTIONS=${env.NODE_OPTIONS ?? '(none)'}; build: ${serverDir ?? 'this checkout'}`);
  console.log('  hosts  seconds  RSS MB  heap used MB');
  for (const s of samples) console.log([s.hosts, s.seconds.toFixed(1), s.rssMB.toFixed(1), s.heapMB.toFixed(1)].map((v, i) => String(v).padStart([7, 8, 7, 13][i]!)).join(' '));
  const first = samples[0]!;
  const last = samples[samples.length - 1]!;
  const middle = samples[Math.floor((samples.length - 1) / 2)]!;
  const kbPerHost = last.hosts > middle.hosts ? ((last.rssMB - middle.rssMB) * 1024) / (last.hosts - middle.hosts) : NaN;
  console.log(
    JSON.stringify({
      hosts: last.hosts,
      rssMBAtStart: Number(first.rssMB.toFixed(1)),
      rssMBAtEnd: Number(last.rssMB.toFixed(1)),
      peakRssMB: Number(Math.max(...samples.map((s) => s.rssMB)).toFixed(1)),
      rssKBPerHostSecondHalf: Number(kbPerHost.toFixed(1)),
    }),
  );
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
