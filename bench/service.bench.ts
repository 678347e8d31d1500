/**
 * Service benchmark (npm run bench:service). Starts the whole service (REST, ROLE=all,
 * in-process transport) on a scratch PostgreSQL database and drives REST commands over
 * SERVICE_BENCH_HOSTS hosts at 1, 16 and 64 concurrent clients: each client opens an fd on
 * one of its hosts, sets global mode and its split, then four times allocates an ioasid,
 * attaches a SIOV device and sets the hwid (a global PASID), and closes the fd; every request
 * is one command and is timed. Then, in the same run, on the same database and at the same
 * concurrency, right after each service level, the same clocks measure (a) raw `pg`
 * single-row INSERT appends and (b) Emmett's `appendToStream` with an expected version: what
 * appending costs without our path. Prints a table, then one JSON line last (at 64 clients).
 *
 * Environment: SERVICE_BENCH_SECONDS (per measurement, default 8), SERVICE_BENCH_HOSTS
 * (default 100), TEST_PG_URL (admin URL of the PostgreSQL used).
 */
import { Agent, request } from 'node:http';
import { performance } from 'node:perf_hooks';
import { Pool } from 'pg';
import { startApp } from '../src/app.factory';
import { loadConfig } from '../src/config';
import { createTestDatabase } from '../test/support/postgres';

const SECONDS = Number(process.env.SERVICE_BENCH_SECONDS ?? 8);
const HOSTS = Number(process.env.SERVICE_BENCH_HOSTS ?? 100);
const LEVELS = [1, 16, 64];
const OPERATOR_TOKEN = 'bench-operator-token';
const SIOV_RID = '0000:5e:00.0';
const IOASIDS_PER_FD = 4;

interface Measurement {
  clients: number;
  ops: number;
  seconds: number;
  /** Per-operation latencies in ms (service only). */
  latencies: number[];
}

const perSec = (m: Measurement) => m.ops / m.seconds;
const round = (n: number, digits = 1) => Number(n.toFixed(digits));

function percentile(latencies: number[], p: number): number {
  const sorted = [...latencies].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];
}

/** Runs `clients` loops of `step` until the clock runs out; each step returns how many operations it did. */
async function measure(clients: number, step: (client: number, latencies: number[]) => Promise<number>): Promise<Measurement> {
  const deadline = performance.now() + SECONDS * 1000;
  const latencies: number[] = [];
  const start = performance.now();
  const counts = await Promise.all(
    Array.from({ length: clients }, async (_, client) => {
      let ops = 0;
      while (performance.now() < deadline) ops += await step(client, latencies);
      return ops;
    }),
  );
  return { clients, ops: counts.reduce((a, b) => a + b, 0), seconds: (performance.now() - start) / 1000, latencies };
}

/** Keep-alive connections shared by every client of the run, as an orchestrator's HTTP client would keep them. */
const agent = new Agent({ keepAlive: true, maxSockets: Math.max(...LEVELS) });

/**
 * A REST client holding one bearer token, on node:http (lighter than fetch: the load runs in
 * the service's own process and must not eat its CPU); every non-2xx answer aborts the benchmark.
 */
class Rest {
  private readonly url: URL;

  constructor(
    baseUrl: string,
    private readonly token: string,
  ) {
    this.url = new URL(baseUrl);
  }

  call<T = any>(method: string, path: string, body: unknown, latencies?: number[]): Promise<T> {
    const payload = body === undefined ? undefined : JSON.stringify(body);
    const t0 = performance.now();
    return new Promise<T>((resolve, reject) => {
      const req = request(
        {
          agent,
          host: this.url.hostname,
          port: this.url.port,
          method,
          path,
          headers: {
            authorization: `Bearer ${this.token}`,
            ...(payload === undefined ? {} : { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) }),
          },
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => {
            latencies?.push(performance.now() - t0);
            const text = Buffer.concat(chunks).toString('utf8');
            if ((res.statusCode ?? 0) >= 300) reject(new Error(`${method} ${path} -> ${res.statusCode} ${text}`));
            else resolve((text ? JSON.parse(text) : undefined) as T);
          });
        },
      );
      req.on('error', reject);
      req.end(payload);
    });
  }
}

interface Service {
  /** Drives `clients` concurrent REST clients for SECONDS. */
  run(clients: number): Promise<Measurement>;
  close(): Promise<void>;
}

/** The whole service on `databaseUrl`, with a tenant and HOSTS registered hosts. */
async function startService(databaseUrl: string): Promise<Service> {
  const started = await startApp(loadConfig({ PORT: '0', GRPC_PORT: '0', OPERATOR_TOKEN, LOG_LEVEL: 'error', DATABASE_URL: databaseUrl }));
  const operator = new Rest(started.httpUrl, OPERATOR_TOKEN);
  const { token } = await operator.call('POST', '/v1/tenants', { name: 'bench', quotas: { maxFds: 1_000_000, maxHostPasids: 1_000_000 } });
  const tenant = new Rest(started.httpUrl, token);
  const hostIds = Array.from({ length: HOSTS }, (_, i) => `bench-host-${i}`);
  for (const hostId of hostIds) {
    await operator.call('POST', '/v1/hosts', {
      hostId,
      pasidBits: 20,
      enqcmd: true,
      nestedPasidTable: false,
      devices: [{ rid: SIOV_RID, kind: 'siov', pasidBits: 20 }],
    });
  }
  let vms = 0;
  /** One fd's life on a host: 4 + 3 * IOASIDS_PER_FD commands. */
  const fdLife = async (hostId: string, latencies: number[]): Promise<number> => {
    const fd = await tenant.call('POST', '/v1/fds', { hostId, vmId: `vm-${++vms}` }, latencies);
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
  };
  return {
    run: (clients) => {
      // Client c drives hosts c, c + clients, c + 2 * clients, ... (mod HOSTS): the clients spread over every host.
      const turns = new Array<number>(clients).fill(0);
      return measure(clients, (c, latencies) => fdLife(hostIds[(c + turns[c]++ * clients) % HOSTS], latencies));
    },
    close: async () => {
      agent.destroy();
      await started.close();
    },
  };
}

/** Single-row INSERT appends, one stream per client, autocommit: the floor of any PostgreSQL event store. */
async function rawPgAppends(databaseUrl: string, clients: number): Promise<Measurement> {
  const pool = new Pool({ connectionString: databaseUrl, max: clients });
  try {
    await pool.query('CREATE TABLE IF NOT EXISTS raw_events (stream_id text, version integer, data jsonb, PRIMARY KEY (stream_id, version))');
    const versions = new Array<number>(clients).fill(0);
    return await measure(clients, async (c) => {
      await pool.query('INSERT INTO raw_events (stream_id, version, data) VALUES ($1, $2, $3)', [
        `raw-${clients}-${c}`,
        ++versions[c],
        JSON.stringify({ fdId: `fd-${c}`, ioasid: versions[c] }),
      ]);
      return 1;
    });
  } finally {
    await pool.end();
  }
}

/** Emmett's appendToStream with an expected version, one stream per client. */
async function emmettAppends(databaseUrl: string, clients: number): Promise<Measurement> {
  // ESM-only package: a dynamic import keeps it out of the CommonJS require graph.
  const { getPostgreSQLEventStore } = await import('@event-driven-io/emmett-postgresql');
  const pool = new Pool({ connectionString: databaseUrl, max: clients });
  const store = getPostgreSQLEventStore(databaseUrl, { connectionOptions: { pool } });
  try {
    const event = (c: number, n: number) => ({ type: 'IoasidAllocated', data: { fdId: `fd-${c}`, ioasid: n } });
    // The first append creates Emmett's schema: outside the clock.
    await store.appendToStream(`warmup-${clients}`, [event(0, 0)]);
    const expected = new Array<bigint>(clients).fill(0n);
    const counts = new Array<number>(clients).fill(0);
    return await measure(clients, async (c) => {
      const result = await store.appendToStream(`emmett-${clients}-${c}`, [event(c, ++counts[c])], { expectedStreamVersion: expected[c] });
      expected[c] = result.nextExpectedStreamVersion;
      return 1;
    });
  } finally {
    await store.close();
    await pool.end().catch(() => undefined);
  }
}

async function main(): Promise<void> {
  const db = await createTestDatabase('ioasid_bench');
  const rows: Array<{ clients: number; service: Measurement; rawPg: Measurement; emmett: Measurement }> = [];
  try {
    const service = await startService(db.url);
    try {
      // The three measurements of a level run back to back, so that they see the same machine.
      for (const clients of LEVELS) {
        rows.push({ clients, service: await service.run(clients), rawPg: await rawPgAppends(db.url, clients), emmett: await emmettAppends(db.url, clients) });
      }
    } finally {
      await service.close();
    }
  } finally {
    await db.drop();
  }
  console.log(`service benchmark: ${HOSTS} hosts, ${SECONDS} s per measurement, PostgreSQL`);
  console.log('clients  commands/s  p50 ms  p99 ms  raw pg appends/s  emmett appends/s');
  for (const { clients, service, rawPg, emmett } of rows) {
    const cells = [clients, round(perSec(service)), round(percentile(service.latencies, 50), 2), round(percentile(service.latencies, 99), 2), round(perSec(rawPg)), round(perSec(emmett))];
    console.log(cells.map((v, i) => String(v).padStart([7, 11, 7, 7, 17, 17][i])).join(' '));
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
