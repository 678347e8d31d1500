/**
 * Service benchmark (npm run bench:service). Starts the whole service (REST, ROLE=all,
 * in-process transport, LOG_LEVEL=warn as deployed) on a scratch PostgreSQL database and
 * drives REST commands over SERVICE_BENCH_HOSTS hosts at 1, 16 and 64 concurrent clients: each
 * client opens an fd on one of its hosts, sets global mode and its split, then four times
 * allocates an ioasid, attaches a SIOV device and sets the hwid (a global PASID), and closes
 * the fd; every request is one command and is timed. Then, in the same run, on the same
 * database and at the same concurrency, right after each service level, the same clocks
 * measure (a) raw `pg` single-row INSERT appends and (b) Emmett's `appendToStream` with an
 * expected version: what appending costs without our path. Every client (HTTP, raw pg,
 * Emmett) runs in one load-generator child process (support/service-load-process.ts), so the
 * service's event loop serves requests only. Prints a table (with the service process's own
 * CPU time per command, which the machine's other work inflates far less than latency), then
 * one JSON line last (at 64 clients). Then, at 64 clients, the service alone is measured
 * SERVICE_BENCH_WATCH_ROUNDS times four more times, alternately without and with
 * SERVICE_BENCH_WATCHERS watches open (SSE, watch i on host i mod hosts): none, watches,
 * watches, none, so that the machine's drift falls on both alike, after one measurement with
 * the watches that is not counted (a warm-up of the watch's code paths). These windows are
 * short and many: what runs beside them now and then (autovacuum, a checkpoint) lasts
 * seconds and falls on either kind, so each round's ratio is printed too. The watches are read
 * by a second load-generator process at the lowest CPU priority (nice 19), as if on other
 * machines: on these two cores it takes only what the service and PostgreSQL leave idle.
 * Beside each measurement, the CPU per command of the service, the command clients, the watch
 * readers and PostgreSQL (its processes on this machine), so that what the watches cost shows
 * wherever it falls. Each event's lag from its commit to its delivery is reported (p50/p99),
 * and `watchCostRatio`: commands/s with the watches over commands/s without (1 = the watches
 * cost the writers nothing). SERVICE_BENCH_WATCHERS=0 skips it.
 *
 * Environment: SERVICE_BENCH_SECONDS (per measurement, default 8), SERVICE_BENCH_HOSTS
 * (default 100), SERVICE_BENCH_WATCHERS (default 100), SERVICE_BENCH_WATCH_ROUNDS (default 5),
 * SERVICE_BENCH_WATCH_SECONDS (per measurement with or without the watches, default 4),
 * TEST_PG_URL (admin URL of the PostgreSQL used).
 */
import { startApp } from '../src/app.factory';
import { loadConfig } from '../src/config';
import { createTestDatabase } from '../test/support/postgres';
import { benchHostId, LoadGenerator } from './support/service-load';
import { cpuMeter, postgresPids } from './support/process-cpu';
import { percentile, perSec, type Measurement } from './support/service-measure';

const SECONDS = Number(process.env.SERVICE_BENCH_SECONDS ?? 8);
const HOSTS = Number(process.env.SERVICE_BENCH_HOSTS ?? 100);
const WATCHERS = Number(process.env.SERVICE_BENCH_WATCHERS ?? 100);
const WATCH_ROUNDS = Number(process.env.SERVICE_BENCH_WATCH_ROUNDS ?? 5);
const WATCH_SECONDS = Number(process.env.SERVICE_BENCH_WATCH_SECONDS ?? 4);
/** The watch readers' CPU priority (nice): the lowest, as for clients on other machines. */
const WATCH_READERS_NICENESS = 19;
const LEVELS = [1, 16, 64];
const WATCH_CLIENTS = 64;
const OPERATOR_TOKEN = 'bench-operator-token';

const round = (n: number, digits = 1) => Number(n.toFixed(digits));

/** CPU per command (µs) of the processes beside the service: the command clients, the watch readers, PostgreSQL (when on this machine). */
interface OtherCpu {
  load: number;
  watchReaders: number;
  postgres: number;
}

async function main(): Promise<void> {
  const db = await createTestDatabase('ioasid_bench');
  const rows: Array<{ clients: number; service: Measurement; serverCpuUs: number; rawPg: Measurement; emmett: Measurement }> = [];
  const watchRows: Array<{ watchers: number; service: Measurement; serverCpuUs: number; cpuUs: OtherCpu }> = [];
  const load = new LoadGenerator();
  const watchReaders = new LoadGenerator(WATCH_READERS_NICENESS);
  try {
    const started = await startApp(loadConfig({ PORT: '0', GRPC_PORT: '0', OPERATOR_TOKEN, LOG_LEVEL: 'warn', DATABASE_URL: db.url }));
    try {
      await load.request({ kind: 'setup', httpUrl: started.httpUrl, operatorToken: OPERATOR_TOKEN, hosts: HOSTS, maxClients: Math.max(...LEVELS) });
      // The three measurements of a level run back to back, so that they see the same machine.
      // The service's own CPU (this process) per command: what the machine's other work cannot inflate much.
      const measureService = async (clients: number, watchers: number, seconds = SECONDS) => {
        if (watchers) {
          const hostIds = Array.from({ length: HOSTS }, (_, i) => benchHostId(i));
          await watchReaders.request({ kind: 'openWatches', httpUrl: started.httpUrl, token: OPERATOR_TOKEN, hostIds, count: watchers });
        }
        const cpuBefore = process.cpuUsage();
        const meters = { load: cpuMeter(() => [load.pid]), watchReaders: cpuMeter(() => [watchReaders.pid]), postgres: cpuMeter(postgresPids) };
        const service = await load.measure({ kind: 'service', clients, seconds });
        const cpu = process.cpuUsage(cpuBefore);
        const cpuUs: OtherCpu = { load: meters.load() / service.ops, watchReaders: meters.watchReaders() / service.ops, postgres: meters.postgres() / service.ops };
        const watchLags = watchers ? (await watchReaders.measure({ kind: 'closeWatches' })).watchLags : undefined;
        return { service: { ...service, watchLags }, serverCpuUs: (cpu.user + cpu.system) / service.ops, cpuUs };
      };
      for (const clients of LEVELS) {
        const { service, serverCpuUs } = await measureService(clients, 0);
        rows.push({
          clients,
          service,
          serverCpuUs,
          rawPg: await load.measure({ kind: 'rawPg', databaseUrl: db.url, clients, seconds: SECONDS }),
          emmett: await load.measure({ kind: 'emmett', databaseUrl: db.url, clients, seconds: SECONDS }),
        });
      }
      if (WATCHERS > 0) {
        // Not measured: the first watches a process serves pay for compiling their code paths.
        await measureService(WATCH_CLIENTS, WATCHERS, WATCH_SECONDS);
        for (let round = 0; round < WATCH_ROUNDS; round++) {
          for (const watchers of [0, WATCHERS, WATCHERS, 0]) watchRows.push({ watchers, ...(await measureService(WATCH_CLIENTS, watchers, WATCH_SECONDS)) });
        }
      }
    } finally {
      load.close();
      watchReaders.close();
      await started.close();
    }
  } finally {
    load.close();
    watchReaders.close();
    await db.drop();
  }
  console.log(`service benchmark: ${HOSTS} hosts, ${SECONDS} s per measurement (${WATCH_SECONDS} s with and without the watches), ${WATCHERS} open watches, PostgreSQL`);
  console.log('clients  commands/s  p50 ms  p99 ms  server CPU us/cmd  raw pg appends/s  emmett appends/s');
  // A row's cells, right-aligned under headings of these widths: the first column, then the service's four.
  const line = (cells: Array<number | string>, widths: number[]) => console.log(cells.map((v, i) => String(v).padStart([7, 11, 7, 7, 18, ...widths][i]!)).join(' '));
  const serviceCells = (service: Measurement, serverCpuUs: number) => [
    round(perSec(service)),
    round(percentile(service.latencies, 50), 2),
    round(percentile(service.latencies, 99), 2),
    Math.round(serverCpuUs),
  ];
  for (const { clients, service, serverCpuUs, rawPg, emmett } of rows) line([clients, ...serviceCells(service, serverCpuUs), round(perSec(rawPg)), round(perSec(emmett))], [17, 17]);
  const withWatches = watchRows.filter((r) => r.watchers > 0);
  const without = watchRows.filter((r) => r.watchers === 0);
  const meanPerSec = (rs: typeof watchRows) => rs.reduce((sum, r) => sum + perSec(r.service), 0) / rs.length;
  const watchLags = withWatches.flatMap((r) => r.service.watchLags ?? []);
  // Rows come in rounds of four (none, watches, watches, none).
  const roundRatios = Array.from({ length: watchRows.length / 4 }, (_, i) => {
    const rs = watchRows.slice(4 * i, 4 * i + 4);
    return round(meanPerSec(rs.filter((r) => r.watchers > 0)) / meanPerSec(rs.filter((r) => r.watchers === 0)), 3);
  });
  if (watchRows.length) {
    console.log(`\nat ${WATCH_CLIENTS} clients, without and with ${WATCHERS} open watches, alternately:`);
    console.log('watches  commands/s  p50 ms  p99 ms  server CPU us/cmd  clients us/cmd  watch readers us/cmd  PostgreSQL us/cmd  watch lag p50 ms  p99 ms');
    for (const { watchers, service, serverCpuUs, cpuUs } of watchRows) {
      const lags = service.watchLags ?? [];
      const lag = (p: number) => (lags.length ? round(percentile(lags, p), 1) : '-');
      line([watchers, ...serviceCells(service, serverCpuUs), Math.round(cpuUs.load), Math.round(cpuUs.watchReaders), Math.round(cpuUs.postgres), lag(50), lag(99)], [14, 20, 17, 16, 7]);
    }
    console.log(`each round's commands/s with the watches over without: ${roundRatios.join(', ')}`);
  }
  const at64 = rows.find((r) => r.clients === 64)!;
  console.log(
    JSON.stringify({
      commandsPerSec: round(perSec(at64.service)),
      p50Ms: round(percentile(at64.service.latencies, 50), 2),
      p99Ms: round(percentile(at64.service.latencies, 99), 2),
      rawPgAppendsPerSec: round(perSec(at64.rawPg)),
      emmettAppendsPerSec: round(perSec(at64.emmett)),
      ratioVsEmmett: round(perSec(at64.service) / perSec(at64.emmett), 2),
      ...(watchRows.length
        ? {
            watchers: WATCHERS,
            commandsPerSecWithoutWatches: round(meanPerSec(without)),
            commandsPerSecWithWatches: round(meanPerSec(withWatches)),
            watchCostRatio: round(meanPerSec(withWatches) / meanPerSec(without), 3),
            watchCostRatioByRound: roundRatios,
            ...(watchLags.length ? { watchLagP50Ms: round(percentile(watchLags, 50), 1), watchLagP99Ms: round(percentile(watchLags, 99), 1) } : {}),
          }
        : {}),
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
