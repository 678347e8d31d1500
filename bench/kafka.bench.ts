/**
 * Kafka benchmark (npm run bench:kafka). Starts a Kafka-protocol mock cluster (kcat) and the
 * whole service on it (ROLE=all, KAFKA_BROKERS set, a scratch PostgreSQL database), then
 * offers 1,000 commands/s for 30 s to the HostCommandRunner (the write path every adapter uses) and
 * measures, per command, the time from its acknowledgment to its event stored in the
 * hardware projection: commit, outbox, relay, Kafka, consumer group, projector. Beside it,
 * in the same run and on the same cluster, a raw kafkajs produce -> consume of the same
 * number of messages: what the cluster carries without our path around it. KAFKA_BENCH_WATCHERS
 * watches (the operator's, GET /v1/events/watch's subscription, read in process; watch i on host
 * i mod KAFKA_BENCH_HOSTS, an orchestrator per host) are open during the load: the lag of each
 * event from its commit to its delivery is reported too (p50/p99). Set it to 0 for the same run
 * without watches. Prints figures, then one JSON line last.
 *
 * Environment: KAFKA_BENCH_RATE (commands/s, default 1000), KAFKA_BENCH_SECONDS (default 30),
 * KAFKA_BENCH_HOSTS (default 100), KAFKA_BENCH_WATCHERS (default 100), TEST_PG_URL (admin URL
 * of the PostgreSQL used).
 */
import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { QueryBus } from '@nestjs/cqrs';
import { Kafka, logLevel } from 'kafkajs';
import { startApp, type StartedApp } from '../src/app.factory';
import { HostCommandRunner } from '../src/application/host-command-runner';
import { VerifyHostQuery } from '../src/application/messages';
import { OPERATOR } from '../src/application/principal';
import type { RequestMeta } from '../src/application/request-meta';
import { TenantCreator } from '../src/application/tenant-creator';
import { WatchEventsQuery } from '../src/application/watch/watch-events.handler';
import type { WatchSubscription } from '../src/application/watch/watch-subscription';
import { loadConfig } from '../src/config';
import type { HostCommand } from '../src/model/commands';
import { HardwareProjector } from '../src/projections/hardware.projector';
import { hostEventChain } from '../test/support/kafka-envelopes';
import { startKafkaMock, type KafkaMock } from '../test/support/kafka-mock';
import { createTestDatabase, type TestDatabase } from '../test/support/postgres';
import { watchLagMs } from './support/watch-lag';

const RATE = Number(process.env.KAFKA_BENCH_RATE ?? 1000);
const SECONDS = Number(process.env.KAFKA_BENCH_SECONDS ?? 30);
const HOSTS = Number(process.env.KAFKA_BENCH_HOSTS ?? 100);
const WATCHERS = Number(process.env.KAFKA_BENCH_WATCHERS ?? 100);
const TOTAL = RATE * SECONDS;
/** Commands are started in slices of this many milliseconds (timers are not precise below that). */
const TICK_MS = 10;

function meta(): RequestMeta {
  const commandId = randomUUID();
  return { principal: OPERATOR, commandId, correlationId: commandId };
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

const round = (n: number, digits = 1) => Number(n.toFixed(digits));

/**
 * One host under load: commands go out in order (a host's next command waits for the previous
 * answer, as a client of one host would), alternating an ioasid allocation and its release, one
 * event each; `version` follows the host's stream so each command knows the version it made.
 */
class HostLoad {
  private chain: Promise<void> = Promise.resolve();
  private version = 0;
  private ioasid?: number;

  constructor(
    private readonly runner: HostCommandRunner,
    readonly hostId: string,
    private readonly fdId: string,
  ) {}

  async setUp(tenantId: string): Promise<void> {
    const devices = [{ rid: '0000:3b:00.1', kind: 'vf' as const, pasidBits: 20 }];
    await this.run({ type: 'RegisterHost', hostId: this.hostId, pasidBits: 20, enqcmd: true, nestedPasidTable: false, devices });
    await this.run({ type: 'CreateFd', fdId: this.fdId, tenantId, vmId: `vm-${this.hostId}` });
    await this.run({ type: 'SetHwidMode', fdId: this.fdId, mode: 'local' });
  }

  get head(): number {
    return this.version;
  }

  /** Queues the next command; `done` gets its acknowledgment time and the version it appended. */
  next(done: (ackAt: number, version: number) => void): void {
    this.chain = this.chain.then(async () => {
      if (this.ioasid === undefined) {
        const answer = await this.run({ type: 'AllocIoasid', fdId: this.fdId });
        this.ioasid = (answer as { ioasid: number }).ioasid;
      } else {
        await this.run({ type: 'FreeIoasid', fdId: this.fdId, ioasid: this.ioasid });
        this.ioasid = undefined;
      }
      done(performance.now(), this.version);
    });
  }

  finished(): Promise<void> {
    return this.chain;
  }

  private async run(command: HostCommand): Promise<unknown> {
    const answer = await this.runner.run(command, meta(), this.hostId);
    this.version++;
    return answer;
  }
}

/** A watch of one host's events, recording each one's lag, until it has seen the host's version `until` names. */
class HostWatch {
  private seen = 0;
  private reached?: { version: number; resolve: () => void };
  private readonly reading: Promise<void>;

  private constructor(
    readonly host: HostLoad,
    private readonly watch: WatchSubscription,
    lags: number[],
  ) {
    this.reading = (async () => {
      for await (const item of watch) {
        if (item.kind === 'end') throw new Error(`the watch ended: ${item.message}`);
        lags.push(watchLagMs(item.event.envelope));
        this.seen = item.event.version;
        if (this.reached && this.seen >= this.reached.version) this.reached.resolve();
      }
    })();
  }

  static async open(queries: QueryBus, host: HostLoad, lags: number[]): Promise<HostWatch> {
    return new HostWatch(host, await queries.execute<WatchEventsQuery, WatchSubscription>(new WatchEventsQuery(OPERATOR, { hostId: host.hostId })), lags);
  }

  /** Resolves once the watch delivered `version` of its host, then closes it; rejects if the watch stops short of it. */
  async until(version: number): Promise<void> {
    if (this.seen < version) {
      const stopped = this.reading.then(() => false, () => false);
      if (!(await Promise.race([new Promise<boolean>((resolve) => (this.reached = { version, resolve: () => resolve(true) })), stopped]))) {
        await this.reading; // its own error (the watch ended), if it has one
        throw new Error(`the watch of ${this.host.hostId} stopped at version ${this.seen}, before ${version}`);
      }
    }
    this.watch.close();
    await this.reading;
  }
}

async function throughTheService(mock: KafkaMock, db: TestDatabase): Promise<{ lags: number[]; watchLags: number[]; outboxMsgsPerSec: number; offeredPerSec: number }> {
  const config = loadConfig({
    PORT: '0',
    GRPC_PORT: '0',
    ROLE: 'all',
    DATABASE_URL: db.url,
    KAFKA_BROKERS: mock.brokers.join(','),
    KAFKA_TOPIC: `bench-events-${randomUUID()}`,
    OPERATOR_TOKEN: `bench-${randomUUID()}`,
    LOG_LEVEL: 'warn',
  });
  let started: StartedApp | undefined;
  try {
    started = await startApp(config);
    const runner = started.app.get(HostCommandRunner);
    const projector = started.app.get(HardwareProjector);
    const queries = started.app.get(QueryBus);
    const { tenantId } = (await started.app.get(TenantCreator).create('bench', { maxFds: 1000, maxHostPasids: 100_000 }, meta())) as { tenantId: string };
    const hosts = Array.from({ length: HOSTS }, (_, i) => new HostLoad(runner, `bench-host-${i}`, randomUUID()));
    for (const host of hosts) await host.setUp(tenantId);
    // Warm-up: the consumer has joined its group and projected the set-up before timing starts.
    await Promise.all(hosts.map((h) => projector.waitFor(h.hostId, h.head, 120_000)));
    console.log(`set up ${HOSTS} hosts; offering ${RATE} commands/s for ${SECONDS} s`);
    const watchLags: number[] = [];
    const watches = await Promise.all(Array.from({ length: WATCHERS }, (_, i) => HostWatch.open(queries, hosts[i % HOSTS], watchLags)));

    const lags: number[] = [];
    const applied: Array<Promise<void>> = [];
    const startedAt = performance.now();
    let lastAppliedAt = startedAt;
    let sent = 0;
    await new Promise<void>((resolve) => {
      const timer = setInterval(() => {
        const due = Math.min(TOTAL, Math.floor(((performance.now() - startedAt) / 1000) * RATE));
        for (; sent < due; sent++) {
          const host = hosts[sent % HOSTS];
          host.next((ackAt, version) => {
            applied.push(
              projector.waitFor(host.hostId, version, 120_000).then(() => {
                lastAppliedAt = performance.now();
                lags.push(lastAppliedAt - ackAt);
              }),
            );
          });
        }
        if (sent === TOTAL) {
          clearInterval(timer);
          resolve();
        }
      }, TICK_MS);
    });
    await Promise.all(hosts.map((h) => h.finished()));
    const offeredPerSec = TOTAL / ((performance.now() - startedAt) / 1000);
    await Promise.all(applied);
    const outboxMsgsPerSec = TOTAL / ((lastAppliedAt - startedAt) / 1000);
    await Promise.all(watches.map((w) => w.until(w.host.head)));

    // Every host's projection is the replay of its stored stream, at the version the load counted.
    for (const host of hosts) {
      const verify = await queries.execute(new VerifyHostQuery(OPERATOR, host.hostId));
      if (!verify.ok || verify.version !== host.head) throw new Error(`${host.hostId}: verify ${JSON.stringify(verify)} at head ${host.head}`);
    }
    return { lags, watchLags, outboxMsgsPerSec, offeredPerSec };
  } finally {
    await started?.close();
  }
}

/** The same number of messages, of the same size, produced (acks = all, 100 per request) and consumed by plain kafkajs. */
async function rawKafka(mock: KafkaMock, count: number): Promise<number> {
  const kafka = new Kafka({ clientId: 'bench-raw', brokers: mock.brokers, logLevel: logLevel.ERROR });
  const topic = `bench-raw-${randomUUID()}`;
  const template = hostEventChain('bench-host-0', 2)[1];
  const producer = kafka.producer({ allowAutoTopicCreation: true });
  const consumer = kafka.consumer({ groupId: `bench-raw-${randomUUID()}` });
  try {
    await producer.connect();
    // Creates the topic before the consumer subscribes (the mock creates topics on first use).
    await producer.send({ topic, acks: -1, messages: [{ key: 'warm-up', value: 'warm-up' }] });
    let received = 0;
    let allReceived!: () => void;
    const done = new Promise<void>((resolve) => (allReceived = resolve));
    await consumer.connect();
    await consumer.subscribe({ topics: [topic], fromBeginning: true });
    await consumer.run({
      eachBatch: async ({ batch }) => {
        received += batch.messages.filter((m) => m.key?.toString() !== 'warm-up').length;
        if (received >= count) allReceived();
      },
    });
    const startedAt = performance.now();
    for (let sent = 0; sent < count; sent += 100) {
      const messages = Array.from({ length: Math.min(100, count - sent) }, (_, i) => {
        const hostId = `bench-host-${(sent + i) % HOSTS}`;
        return { key: hostId, value: JSON.stringify({ ...template, hostId, version: sent + i + 1 }), headers: { type: template.type, 'schema-version': '1' } };
      });
      await producer.send({ topic, acks: -1, messages });
    }
    await done;
    return count / ((performance.now() - startedAt) / 1000);
  } finally {
    await consumer.disconnect();
    await producer.disconnect();
  }
}

async function main(): Promise<void> {
  const mock = await startKafkaMock();
  const db = await createTestDatabase('ioasid_bench_kafka');
  try {
    const { lags, watchLags, outboxMsgsPerSec, offeredPerSec } = await throughTheService(mock, db);
    const watchSorted = watchLags.slice().sort((a, b) => a - b);
    const sorted = lags.slice().sort((a, b) => a - b);
    const lagP50Ms = round(percentile(sorted, 50));
    const lagP99Ms = round(percentile(sorted, 99));
    console.log(`commands acknowledged: ${lags.length} at ${round(offeredPerSec)}/s offered`);
    console.log(`ack -> projected lag: p50 ${lagP50Ms} ms, p90 ${round(percentile(sorted, 90))} ms, p99 ${lagP99Ms} ms, max ${round(sorted[sorted.length - 1])} ms`);
    console.log(`events through outbox, Kafka and projector: ${round(outboxMsgsPerSec)}/s`);
    const watch = watchLags.length ? { watchers: WATCHERS, watchLagP50Ms: round(percentile(watchSorted, 50)), watchLagP99Ms: round(percentile(watchSorted, 99)) } : {};
    if (watchLags.length) console.log(`commit -> watch delivery lag, ${WATCHERS} watches: p50 ${watch.watchLagP50Ms} ms, p99 ${watch.watchLagP99Ms} ms (${watchLags.length} events)`);
    const rawKafkaMsgsPerSec = round(await rawKafka(mock, TOTAL));
    console.log(`raw kafkajs produce -> consume of ${TOTAL} messages: ${rawKafkaMsgsPerSec}/s`);
    console.log(JSON.stringify({ lagP50Ms, lagP99Ms, rawKafkaMsgsPerSec, outboxMsgsPerSec: round(outboxMsgsPerSec), ...watch }));
  } finally {
    await db.drop();
    await mock.stop();
  }
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
