/**
 * Fleet benchmark (npm run bench:fleet). For a large fleet (FLEET_HOSTS, default 100,000) and a
 * 100-host one:
 *  1. populates each fleet once, through the store, into a database kept as a template: every
 *     host registered with one VM fd holding 10 global PASIDs (1,000,000 at 100,000 hosts; 34
 *     events), plus 100 hosts of exactly 1,000 events without a snapshot (the large fleet
 *     only); each host's projected hardware stored with its checkpoint, as a projector that
 *     has run leaves it (a snapshot of the hardware only: the 1,000-event hosts have no
 *     decider snapshot);
 *  2. for each build of FLEET_SERVER_DIRS in turn (default: this checkout; a comma-separated
 *     list of checkouts, such as `/work/base,.,.,/work/base`, runs A B B A against another
 *     release), brings up both fleets at once, each on a fresh copy of its template: an API
 *     process (ROLE=api) and a projector process (ROLE=projector) of that build per fleet, with
 *     the default HOST_CACHE_MB and NODE_OPTIONS=--max-old-space-size=384, over Kafka (the kcat
 *     mock cluster);
 *  3. (large fleet) reads the standing fd of FLEET_SWEEP hosts (default 20,000) once through
 *     REST (GET /v1/fds/{id}, answered from the host's decider state), 64 at a time, so that
 *     the API's cache reaches its bound and evicts from then on;
 *  4. after a window of each fleet not measured (warming the processes' code), drives 64
 *     clients in FLEET_ROUNDS rounds of four windows, on the large fleet, the small,
 *     the small, the large, each window FLEET_SECONDS / (2 x FLEET_ROUNDS) long (5 s by
 *     default): the machine's speed drifts by a quarter within tens of seconds, and short
 *     windows side by side in this order put the drift on both fleets alike, so the ratio
 *     (commands/s of each fleet over all its windows) measures the fleet's size, not the
 *     minute. After each window the fleet's outbox and projector catch up before the next
 *     begins, so that one fleet's projection is not paid in the other's window. Each fd life
 *     (create an fd, global mode and split, 4 x alloc + attach + hwid, close: 16 commands)
 *     goes to the next host of a stride through the whole fleet, so the working set moves
 *     across it and at 100,000 hosts most lives start on a host the API does not hold;
 *  5. (large fleet) reads an fd of each 1,000-event host once, one at a time: a cold load of
 *     the host (its 1,000 events from PostgreSQL), timed from the client;
 *  6. samples the four processes' RSS throughout (the highest of each is reported), and the CPU
 *     each window costs (from its start until its fleet has settled) in the fleet's API (and of
 *     that, its main thread: the rest is mostly garbage collection's helper threads), its
 *     projector, PostgreSQL (all its processes: the other fleet's are idle meanwhile) and this
 *     process (the clients), per command;
 *  7. with FLEET_PG_STATEMENTS=N, prints for each fleet the N statements that took PostgreSQL
 *     longest during its windows (step 4) and every index's block reads, per command
 *     (PostgreSQL must preload pg_stat_statements).
 * Prints each window's commands/s as it ends, a table (a row per build and fleet; p99 over the
 * fleet's windows), then one JSON line last: the last run of this checkout's build (of the last
 * build listed when this checkout is not among them).
 *
 * Environment: FLEET_HOSTS (default 100000), FLEET_SECONDS (each fleet's load, default 30),
 * FLEET_ROUNDS (default 3), FLEET_SWEEP (default 20000), FLEET_NODE_OPTIONS (NODE_OPTIONS of the
 * services, default --max-old-space-size=384), FLEET_SERVER_DIRS, FLEET_PG_STATEMENTS,
 * FLEET_KEEP_TEMPLATES (any value), TEST_PG_URL.
 */
import { basename, resolve } from 'node:path';
import { Agent } from 'node:http';
import { openDatabase } from '../src/store/database';
import { REPO_ROOT } from '../test/support/deploy-files';
import { createTestDatabase, databaseExists, databaseUrl, renameDatabase, type TestDatabase } from '../test/support/postgres';
import { startKafkaMock, type KafkaMock } from '../test/support/kafka-mock';
import { startServer, waitFor200, type ServerProcess } from '../test/support/server-process';
import { httpRequest } from '../test/support/http-request';
import { busyFdId, createFleetTenant, FLEET_TENANT, fleetHost, standingFdId, longHost, PASIDS_PER_HOST, populateFleet, type FleetTenant } from './support/fleet-populate';
import { fdLife } from './support/fd-life';
import { measure, percentile, perSec, type Measurement } from './support/service-measure';
import { heapUsedMB, rssMB } from './support/process-memory';
import { cpuMeter, mainThreadCpuMeter, postgresPids } from './support/process-cpu';
import { Rest } from './support/service-rest';
import { PgStatements } from './support/pg-statements';

const HOSTS = Number(process.env.FLEET_HOSTS ?? 100_000);
const SECONDS = Number(process.env.FLEET_SECONDS ?? 30);
const ROUNDS = Number(process.env.FLEET_ROUNDS ?? 3);
/** Each round gives each fleet two windows: short ones, as the machine's speed moves within tens of seconds. */
const WINDOW_SECONDS = SECONDS / (2 * ROUNDS);
/** A bound on waiting for a fleet's outbox and projector after its window: not a measurement. */
const SETTLE_LIMIT_MS = 30_000;
const SETTLE_POLL_MS = 50;
/** Hosts read before the load: past what the default cache holds (about 3,700 such hosts), so it evicts from then on. */
const SWEEP = Math.min(HOSTS, Number(process.env.FLEET_SWEEP ?? 20_000));
const SMALL_FLEET = 100;
const LONG_HOSTS = 100;
const LONG_HOST_EVENTS = 1_000;
const CLIENTS = 64;
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
  /** The fleet's load windows, in the order run. */
  windows: Measurement[];
  /** Its windows as one: commands/s over their summed time, their latencies together. */
  load: Measurement;
  coldLoads: number[];
  /** CPU µs per command of the load, by process. */
  cpuUs: WindowCpu;
  apiRssMB: number;
  projectorRssMB: number;
}


/** CPU µs a fleet's windows used, by process: summed over its windows, then per command. */
interface WindowCpu {
  api: number;
  /** Of `api`, its main thread's: the rest is its helper threads (garbage collection's above all). */
  apiMainThread: number;
  projector: number;
  postgres: number;
  clients: number;
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

/** A fleet's API and projector of one build, on a fresh copy of the fleet's template, with its load's position in the fleet. */
interface Deployment {
  fleet: Fleet;
  scratch: TestDatabase;
  api: ServerProcess;
  projector?: ServerProcess;
  agent: Agent;
  client: Rest;
  statements?: PgStatements;
  /** fd lives begun so far, across the windows: each window goes on along the stride where the last stopped. */
  lives: number;
}

async function deploy(serverDir: string, fleet: Fleet, kafka: KafkaMock): Promise<Deployment> {
  const scratch = await createTestDatabase('ioasid_fleet_bench', fleet.template.name);
  const common = {
    DATABASE_URL: scratch.url,
    OPERATOR_TOKEN,
    LOG_LEVEL: 'warn',
    KAFKA_BROKERS: kafka.brokers.join(','),
    KAFKA_TOPIC: `fleet-${fleet.hosts}-${Date.now()}`,
    // Both fleets' projectors run at once: in one consumer group, one would be assigned the other's topic.
    KAFKA_GROUP_ID: `fleet-${fleet.hosts}-${Date.now()}`,
    // As deployed beside the default HOST_CACHE_MB (docs/API.md): without a heap limit V8 grows far past the live hosts.
    NODE_OPTIONS: process.env.FLEET_NODE_OPTIONS ?? SERVICE_NODE_OPTIONS,
  };
  const agent = new Agent({ keepAlive: true, maxSockets: CLIENTS });
  const api = await startServer({ ...common, ROLE: 'api' }, serverDir);
  const deployment: Deployment = { fleet, scratch, api, agent, client: new Rest(api.url, fleet.tenant.token, agent), lives: 0 };
  try {
    // The projector starts once the API has migrated the copy (a build may have migrations the template lacks).
    await waitFor200(deployment.api, '/healthz');
    deployment.projector = await startServer({ ...common, ROLE: 'projector', RUN_MIGRATIONS: 'false' }, serverDir);
    await waitFor200(deployment.projector, '/healthz');
    if (PG_STATEMENTS > 0) deployment.statements = await PgStatements.open(scratch.url);
    return deployment;
  } catch (e) {
    await undeploy(deployment);
    throw e;
  }
}

async function undeploy({ api, projector, agent, statements, scratch }: Deployment): Promise<void> {
  agent.destroy();
  await statements?.close();
  for (const server of [api, projector]) server?.child.kill('SIGTERM');
  await Promise.all([api.exited, projector?.exited]);
  await scratch.drop();
}

/** One fd life on the next host of the stride: 16 commands. */
function nextFdLife(d: Deployment, latencies: number[]): Promise<number> {
  const hosts = d.fleet.hosts;
  const life = d.lives++;
  return fdLife(d.client, hostName(((life % hosts) * STRIDE) % hosts), `load-vm-${life}`, latencies);
}

/**
 * Waits (within a bound) until the fleet's API has relayed its outbox and its projector has
 * applied what was relayed, so that a window's events are projected in that window's fleet's
 * time rather than in the next window's.
 */
async function settled(d: Deployment): Promise<void> {
  const deadline = Date.now() + SETTLE_LIMIT_MS;
  const pending = async (server: ServerProcess, field: 'outboxPending' | 'projectionLag') =>
    Number(JSON.parse((await httpRequest(`${server.url}/readyz`, { agent: false })).body)[field] ?? 0);
  for (const [server, field] of [[d.api, 'outboxPending'], [d.projector!, 'projectionLag']] as const) {
    while (Date.now() < deadline && (await pending(server, field)) > 0) await new Promise((r) => setTimeout(r, SETTLE_POLL_MS));
  }
}

/** The measurements of one fleet's windows as one. */
function joined(windows: Measurement[]): Measurement {
  return {
    clients: CLIENTS,
    ops: windows.reduce((sum, w) => sum + w.ops, 0),
    seconds: windows.reduce((sum, w) => sum + w.seconds, 0),
    latencies: windows.flatMap((w) => w.latencies),
  };
}

/**
 * One build on both fleets at once: the large fleet's sweep, then the load in windows
 * alternating between the fleets (large, small, small, large) so that the machine's drift falls
 * on both alike, then the large fleet's cold loads.
 */
async function runBuild(serverDir: string, largeFleet: Fleet, smallFleet: Fleet, kafka: KafkaMock): Promise<{ large: FleetRun; small: FleetRun }> {
  const deployments: Deployment[] = [];
  try {
    for (const fleet of [largeFleet, smallFleet]) deployments.push(await deploy(serverDir, fleet, kafka));
    const [large, small] = deployments as [Deployment, Deployment];
    const servers = deployments.flatMap((d) => [d.api, d.projector!]);
    const { result, peaks } = await sampled(servers, async () => {
      const sweepStart = Date.now();
      await sweep(SWEEP, CLIENTS, (i) => large.client.call('GET', `/v1/fds/${standingFdId(i)}`, undefined));
      const sweepSeconds = (Date.now() - sweepStart) / 1000;
      const apiHeapMB = await Promise.all(deployments.map((d) => heapUsedMB(d.api.url)));
      // Unmeasured: a fresh process's first commands run before V8 has compiled their path.
      for (const d of deployments) {
        await measure(CLIENTS, WINDOW_SECONDS, (_client, latencies) => nextFdLife(d, latencies));
        await settled(d);
      }
      for (const d of deployments) await d.statements?.reset();
      const windows = new Map<Deployment, Measurement[]>(deployments.map((d) => [d, []]));
      const cpu = new Map<Deployment, WindowCpu>(deployments.map((d) => [d, { api: 0, apiMainThread: 0, projector: 0, postgres: 0, clients: 0 }]));
      for (const d of Array.from({ length: ROUNDS }, () => [large, small, small, large]).flat()) {
        const apiPid = () => [d.api.child.pid!];
        const meters = { api: cpuMeter(apiPid), apiMainThread: mainThreadCpuMeter(apiPid), projector: cpuMeter(() => [d.projector!.child.pid!]), postgres: cpuMeter(postgresPids) };
        const clientsBefore = process.cpuUsage();
        const window = await measure(CLIENTS, WINDOW_SECONDS, (_client, latencies) => nextFdLife(d, latencies));
        console.log(`  ${buildName(serverDir)}, ${d.fleet.hosts} hosts: ${round(perSec(window))} commands/s`);
        windows.get(d)!.push(window);
        await settled(d);
        const clients = process.cpuUsage(clientsBefore);
        const sum = cpu.get(d)!;
        sum.api += meters.api();
        sum.apiMainThread += meters.apiMainThread();
        sum.projector += meters.projector();
        sum.postgres += meters.postgres();
        sum.clients += clients.user + clients.system;
      }
      for (const d of deployments) await d.statements?.print(`${buildName(serverDir)}, ${d.fleet.hosts} hosts`, joined(windows.get(d)!).ops, PG_STATEMENTS);
      const coldLoads: number[] = [];
      for (let i = 0; i < largeFleet.longHosts; i++) await large.client.call('GET', `/v1/fds/${busyFdId(i)}`, undefined, coldLoads);
      const cpuUs = deployments.map((d) => {
        const ops = joined(windows.get(d)!).ops;
        const sum = cpu.get(d)!;
        return { api: sum.api / ops, apiMainThread: sum.apiMainThread / ops, projector: sum.projector / ops, postgres: sum.postgres / ops, clients: sum.clients / ops };
      });
      return { sweepSeconds, apiHeapMB, windows: deployments.map((d) => windows.get(d)!), coldLoads, cpuUs };
    });
    const run = (i: number, fleet: Fleet, coldLoads: number[]): FleetRun => ({
      build: buildName(serverDir),
      hosts: fleet.hosts,
      pasids: fleet.pasids,
      populateSeconds: fleet.populateSeconds,
      sweepSeconds: i === 0 ? result.sweepSeconds : 0,
      apiHeapMB: result.apiHeapMB[i]!,
      windows: result.windows[i]!,
      load: joined(result.windows[i]!),
      coldLoads,
      cpuUs: result.cpuUs[i]!,
      apiRssMB: peaks[2 * i]!,
      projectorRssMB: peaks[2 * i + 1]!,
    });
    return { large: run(0, largeFleet, result.coldLoads), small: run(1, smallFleet, []) };
  } finally {
    for (const d of deployments) await undeploy(d);
  }
}

const buildName = (dir: string) => (dir === resolve(REPO_ROOT) ? 'this' : basename(dir));

async function main(): Promise<void> {
  const kafka = await startKafkaMock();
  const runs: Array<{ large: FleetRun; small: FleetRun }> = [];
  const fleets: Fleet[] = [];
  try {
    console.log(`fleet benchmark: ${HOSTS} hosts and ${SMALL_FLEET} at once, ${CLIENTS} clients for ${SECONDS} s on each (${ROUNDS} rounds of ${WINDOW_SECONDS} s windows: large, small, small, large), PostgreSQL, Kafka mock; builds: ${SERVER_DIRS.map(buildName).join(', ')}`);
    fleets.push(await populated(HOSTS, LONG_HOSTS), await populated(SMALL_FLEET, 0));
    const [largeFleet, smallFleet] = fleets as [Fleet, Fleet];
    for (const dir of SERVER_DIRS) runs.push(await runBuild(dir, largeFleet, smallFleet, kafka));
  } finally {
    await kafka.stop();
    for (const fleet of fleets) await fleet.template.drop();
  }
  console.log('build      hosts    PASIDs  populate s  sweep s  API heap MB  commands/s  p50 ms  p99 ms  API RSS MB  projector RSS MB  cold load p50/p99 ms  CPU us/cmd API (main thread)/projector/PostgreSQL/clients  windows commands/s');
  for (const { large, small } of runs) {
    for (const r of [large, small]) {
      const cold = r.coldLoads.length ? `${round(percentile(r.coldLoads, 50), 2)}/${round(percentile(r.coldLoads, 99), 2)}` : '-';
      const windows = r.windows.map((w) => round(perSec(w))).join(' / ');
      const cpu = `${Math.round(r.cpuUs.api)} (${Math.round(r.cpuUs.apiMainThread)})/${[r.cpuUs.projector, r.cpuUs.postgres, r.cpuUs.clients].map(Math.round).join('/')}`;
      const cells = [r.build, r.hosts, r.pasids, round(r.populateSeconds), round(r.sweepSeconds), Math.round(r.apiHeapMB), round(perSec(r.load)), round(percentile(r.load.latencies, 50), 2), round(percentile(r.load.latencies, 99), 2), Math.round(r.apiRssMB), Math.round(r.projectorRssMB), cold, cpu, windows];
      console.log(cells.map((v, i) => String(v).padStart([5, 10, 9, 11, 8, 12, 11, 7, 7, 11, 17, 21, 58, 19][i]!)).join(' '));
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
