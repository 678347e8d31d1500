/**
 * Fleet benchmark (npm run bench:fleet). For a large fleet (FLEET_HOSTS, default 100,000) and
 * then a 100-host one:
 *  1. populates each fleet once, through the store, into a database kept as a template: every
 *     host registered with one VM fd holding 10 global PASIDs (1,000,000 at 100,000 hosts; 34
 *     events), plus 100 hosts of exactly 1,000 events without a snapshot (the large fleet
 *     only); each host's projected hardware stored with its checkpoint, as a projector that
 *     has run leaves it (a snapshot of the hardware only: the 1,000-event hosts have no
 *     decider snapshot);
 *  2. for each build of FLEET_SERVER_DIRS in turn (default: this checkout; a comma-separated
 *     list of checkouts, such as `/work/base,.,.,/work/base`, runs A B B A against another
 *     release), on a fresh copy of each fleet's template: starts an API process (ROLE=api) and a
 *     projector process (ROLE=projector) of that build with the default HOST_CACHE_MB and
 *     NODE_OPTIONS=--max-old-space-size=384, over Kafka (the kcat mock cluster);
 *  3. (large fleet) reads the standing fd of FLEET_SWEEP hosts (default 20,000) once through
 *     REST (GET /v1/fds/{id}, answered from the host's decider state), 64 at a time, so that
 *     the API's cache reaches its bound and evicts from then on;
 *  4. drives 64 clients for FLEET_SECONDS: each fd life (create an fd, global mode and split,
 *     4 x alloc + attach + hwid, close: 16 commands) goes to the next host of a stride through
 *     the whole fleet, so the working set moves across it and at 100,000 hosts most lives
 *     start on a host the API does not hold;
 *  5. (large fleet) reads an fd of each 1,000-event host once, one at a time: a cold load of
 *     the host (its 1,000 events from PostgreSQL), timed from the client;
 *  6. samples both processes' RSS throughout (the highest is reported);
 *  7. with FLEET_PG_STATEMENTS=N, prints the N statements that took PostgreSQL longest during
 *     the load (step 4) and every index's block reads, per command (PostgreSQL must preload
 *     pg_stat_statements).
 * Prints a table (a row per build and fleet), then one JSON line last: the last run of this
 * checkout's build (of the last build listed when this checkout is not among them).
 *
 * Environment: FLEET_HOSTS (default 100000), FLEET_SECONDS (default 20), FLEET_SWEEP (default
 * 20000), FLEET_NODE_OPTIONS (NODE_OPTIONS of both services, default
 * --max-old-space-size=384), FLEET_SERVER_DIRS, FLEET_PG_STATEMENTS, FLEET_KEEP_TEMPLATES (any value), TEST_PG_URL.
 */
import { basename, resolve } from 'node:path';
import { Agent } from 'node:http';
import { openDatabase } from '../src/store/database';
import { REPO_ROOT } from '../test/support/deploy-files';
import { createTestDatabase, databaseExists, databaseUrl, renameDatabase, type TestDatabase } from '../test/support/postgres';
import { startKafkaMock, type KafkaMock } from '../test/support/kafka-mock';
import { startServer, waitFor200, type ServerProcess } from '../test/support/server-process';
import { busyFdId, createFleetTenant, FLEET_TENANT, fleetHost, standingFdId, longHost, PASIDS_PER_HOST, populateFleet, SIOV_RID, type FleetTenant } from './support/fleet-populate';
import { measure, percentile, perSec, type Measurement } from './support/service-measure';
import { heapUsedMB, rssMB } from './support/process-memory';
import { Rest } from './support/service-rest';
import { PgStatements } from './support/pg-statements';

const HOSTS = Number(process.env.FLEET_HOSTS ?? 100_000);
const SECONDS = Number(process.env.FLEET_SECONDS ?? 20);
/** Hosts read before the load: past what the default cache holds (about 10,000 such hosts), so it evicts from then on. */
const SWEEP = Math.min(HOSTS, Number(process.env.FLEET_SWEEP ?? 20_000));
const SMALL_FLEET = 100;
const LONG_HOSTS = 100;
const LONG_HOST_EVENTS = 1_000;
const CLIENTS = 64;
const IOASIDS_PER_FD = 4;
/** Prime, so that the k-th fd life's host (k * STRIDE mod hosts) walks through every host before repeating. */
const STRIDE = 7919;
const OPERATOR_TOKEN = 'fleet-operator-token';
const RSS_SAMPLE_MS = 250;
const SERVICE_NODE_OPTIONS = '--max-old-space-size=384';
const KEEP_TEMPLATES = Boolean(process.env.FLEET_KEEP_TEMPLATES);
const PG_STATEMENTS = Number(process.env.FLEET_PG_STATEMENTS ?? 0);
const SERVER_DIRS = (process.env.FLEET_SERVER_DIRS ?? REPO_ROOT).split(',').map((dir) => resolve(dir.trim()));

const round = (n: number, digits = 1) => Number(n.toFixed(digits));
const hostName = (i: number) => `fleet-host-${i}`;
const longName = (i: number) => `fleet-long-${i}`;

/** A fleet populated once, copied afresh for each run. */
interface Fleet {
  hosts: number;
  longHosts: number;
  pasids: number;
  populateSeconds: number;
  template: TestDatabase;
  tenant: FleetTenant;
}

interface FleetRun {
  /** The build measured: `this` or the other checkout's folder name. */
  build: string;
  hosts: number;
  pasids: number;
  populateSeconds: number;
  sweepSeconds: number;
  /** The API's V8 heap in use right after the sweep (live hosts plus garbage not yet collected). */
  apiHeapMB: number;
  load: Measurement;
  coldLoads: number[];
  apiRssMB: number;
  projectorRssMB: number;
}


/** The highest RSS of each process while `work` runs. */
async function sampled<T>(servers: ServerProcess[], work: () => Promise<T>): Promise<{ result: T; peaks: number[] }> {
  const peaks = servers.map(() => 0);
  const sample = () => servers.forEach((s, i) => (peaks[i] = Math.max(peaks[i]!, rssMB(s.child.pid!))));
  const timer = setInterval(sample, RSS_SAMPLE_MS);
  try {
    const result = await work();
    sample();
    return { result, peaks };
  } finally {
    clearInterval(timer);
  }
}


/** `count` requests, `concurrency` at a time. */
async function sweep(count: number, concurrency: number, request: (i: number) => Promise<unknown>): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: concurrency }, async () => {
    while (next < count) await request(next++);
  }));
}

/**
 * Populates a fleet through the store into a database of its own, kept as the runs' template.
 * With FLEET_KEEP_TEMPLATES the template is named by its size and kept after the run, and a
 * kept one is used again as it is (populated by the build that first made it, its schema
 * migrated by each build that runs on a copy).
 */
async function populated(hosts: number, longHosts: number): Promise<Fleet> {
  if (KEEP_TEMPLATES) {
    const name = `ioasid_fleet_kept_${hosts}_${longHosts}`;
    const kept = { name, url: databaseUrl(name), drop: async () => undefined };
    if (await databaseExists(name)) {
      console.log(`  using the kept template ${name}`);
      return { hosts, longHosts, pasids: hosts * PASIDS_PER_HOST, populateSeconds: 0, template: kept, tenant: FLEET_TENANT };
    }
    const fresh = await createTestDatabase('ioasid_fleet_template');
    const fleet = await populate(hosts, longHosts, fresh);
    await renameDatabase(fresh.name, name);
    return { ...fleet, template: kept };
  }
  return populate(hosts, longHosts, await createTestDatabase('ioasid_fleet_template'));
}

async function populate(hosts: number, longHosts: number, template: TestDatabase): Promise<Fleet> {
  try {
    const db = await openDatabase({ databaseUrl: template.url, dataDir: '.', poolSize: 8 });
    const started = Date.now();
    try {
      const tenant = await createFleetTenant(db);
      const all = [
        ...Array.from({ length: hosts }, (_, i) => ({ hostId: hostName(i), events: () => fleetHost(hostName(i), standingFdId(i), tenant.tenantId) })),
        ...Array.from({ length: longHosts }, (_, i) => ({ hostId: longName(i), events: () => longHost(longName(i), busyFdId(i), tenant.tenantId, LONG_HOST_EVENTS) })),
      ];
      await populateFleet(db, all, (done) => {
        if (done % 10_000 === 0) console.log(`  populated ${done} of ${all.length} hosts`);
      });
      // The standing fds' PASIDs (the long hosts hold a few hundred more, not counted).
      return { hosts, longHosts, pasids: hosts * PASIDS_PER_HOST, populateSeconds: (Date.now() - started) / 1000, template, tenant };
    } finally {
      await db.close();
    }
  } catch (e) {
    await template.drop();
    throw e;
  }
}

async function runFleet(serverDir: string, fleet: Fleet, kafka: KafkaMock): Promise<FleetRun> {
  const { hosts, longHosts, pasids, populateSeconds, tenant } = fleet;
  const scratch = await createTestDatabase('ioasid_fleet_bench', fleet.template.name);
  try {
    const common = {
      DATABASE_URL: scratch.url,
      OPERATOR_TOKEN,
      LOG_LEVEL: 'warn',
      KAFKA_BROKERS: kafka.brokers.join(','),
      KAFKA_TOPIC: `fleet-${hosts}-${Date.now()}`,
      // As deployed beside the default HOST_CACHE_MB (docs/API.md): without a heap limit V8 grows far past the live hosts.
      NODE_OPTIONS: process.env.FLEET_NODE_OPTIONS ?? SERVICE_NODE_OPTIONS,
    };
    const api = await startServer({ ...common, ROLE: 'api' }, serverDir);
    const agent = new Agent({ keepAlive: true, maxSockets: CLIENTS });
    let projector: ServerProcess | undefined;
    try {
      // The projector starts once the API has migrated the copy (a build may have migrations the template lacks).
      await waitFor200(api, '/healthz');
      projector = await startServer({ ...common, ROLE: 'projector', RUN_MIGRATIONS: 'false' }, serverDir);
      await waitFor200(projector, '/healthz');
      const client = new Rest(api.url, tenant.token, agent);

      const { result, peaks } = await sampled([api, projector], async () => {
        const sweepStart = Date.now();
        if (longHosts > 0) await sweep(Math.min(hosts, SWEEP), CLIENTS, (i) => client.call('GET', `/v1/fds/${standingFdId(i)}`, undefined));
        const sweepSeconds = (Date.now() - sweepStart) / 1000;
        const apiHeapMB = await heapUsedMB(api.url);
        let lives = 0;
        let vms = 0;
        const fdLife = async (_client: number, latencies: number[]) => {
          const hostId = hostName(((lives++ % hosts) * STRIDE) % hosts);
          const fd = await client.call('POST', '/v1/fds', { hostId, vmId: `load-vm-${++vms}` }, latencies);
          const path = `/v1/fds/${fd.fdId}`;
          await client.call('PUT', `${path}/hwid-mode`, { mode: 'global' }, latencies);
          await client.call('PUT', `${path}/global-min`, { globalMin: 1024 }, latencies);
          for (let pasid = 1; pasid <= IOASIDS_PER_FD; pasid++) {
            const { ioasid } = await client.call('POST', `${path}/ioasids`, undefined, latencies);
            await client.call('POST', `${path}/ioasids/${ioasid}/attachments`, { rid: SIOV_RID, enqcmd: false }, latencies);
            await client.call('PUT', `${path}/ioasids/${ioasid}/hwid`, { pasid }, latencies);
          }
          await client.call('DELETE', path, undefined, latencies);
          return 4 + 3 * IOASIDS_PER_FD;
        };
        const statements = PG_STATEMENTS > 0 ? await PgStatements.open(scratch.url) : undefined;
        await statements?.reset();
        const load = await measure(CLIENTS, SECONDS, fdLife);
        await statements?.print(`${buildName(serverDir)}, ${hosts} hosts`, load.ops, PG_STATEMENTS);
        await statements?.close();
        const coldLoads: number[] = [];
        for (let i = 0; i < longHosts; i++) await client.call('GET', `/v1/fds/${busyFdId(i)}`, undefined, coldLoads);
        return { sweepSeconds, apiHeapMB, load, coldLoads };
      });
      return { build: buildName(serverDir), hosts, pasids, populateSeconds, ...result, apiRssMB: peaks[0]!, projectorRssMB: peaks[1]! };
    } finally {
      agent.destroy();
      for (const server of [api, projector]) server?.child.kill('SIGTERM');
      await Promise.all([api.exited, projector?.exited]);
    }
  } finally {
    await scratch.drop();
  }
}

const buildName = (dir: string) => (dir === resolve(REPO_ROOT) ? 'this' : basename(dir));

async function main(): Promise<void> {
  const kafka = await startKafkaMock();
  const runs: Array<{ large: FleetRun; small: FleetRun }> = [];
  const fleets: Fleet[] = [];
  try {
    console.log(`fleet benchmark: ${HOSTS} hosts (then ${SMALL_FLEET}), ${CLIENTS} clients for ${SECONDS} s, PostgreSQL, Kafka mock; builds: ${SERVER_DIRS.map(buildName).join(', ')}`);
    fleets.push(await populated(HOSTS, LONG_HOSTS), await populated(SMALL_FLEET, 0));
    const [largeFleet, smallFleet] = fleets as [Fleet, Fleet];
    for (const dir of SERVER_DIRS) {
      runs.push({ large: await runFleet(dir, largeFleet, kafka), small: await runFleet(dir, smallFleet, kafka) });
    }
  } finally {
    await kafka.stop();
    for (const fleet of fleets) await fleet.template.drop();
  }
  console.log('build      hosts    PASIDs  populate s  sweep s  API heap MB  commands/s  p50 ms  p99 ms  API RSS MB  projector RSS MB  cold load p50/p99 ms');
  for (const { large, small } of runs) {
    for (const r of [large, small]) {
      const cold = r.coldLoads.length ? `${round(percentile(r.coldLoads, 50), 2)}/${round(percentile(r.coldLoads, 99), 2)}` : '-';
      const cells = [r.build, r.hosts, r.pasids, round(r.populateSeconds), round(r.sweepSeconds), Math.round(r.apiHeapMB), round(perSec(r.load)), round(percentile(r.load.latencies, 50), 2), round(percentile(r.load.latencies, 99), 2), Math.round(r.apiRssMB), Math.round(r.projectorRssMB), cold];
      console.log(cells.map((v, i) => String(v).padStart([5, 10, 9, 11, 8, 12, 11, 7, 7, 11, 17, 21][i]!)).join(' '));
    }
  }
  const mine = runs.filter((r) => r.large.build === 'this');
  const { large, small } = (mine.length ? mine : runs)[(mine.length ? mine : runs).length - 1]!;
  console.log(
    JSON.stringify({
      hosts: large.hosts,
      pasids: large.pasids,
      commandsPerSec: round(perSec(large.load)),
      commandsPerSecAt100Hosts: round(perSec(small.load)),
      ratio: round(perSec(large.load) / perSec(small.load), 2),
      p99Ms: round(percentile(large.load.latencies, 99), 2),
      coldLoadP99Ms: round(percentile(large.coldLoads, 99), 2),
      apiRssMB: Math.round(Math.max(large.apiRssMB, small.apiRssMB)),
      projectorRssMB: Math.round(Math.max(large.projectorRssMB, small.projectorRssMB)),
    }),
  );
}

main().then(
  () => process.exit(0),
  (e: unknown) => {
    console.error(e);
    process.exit(1);
  },
);
