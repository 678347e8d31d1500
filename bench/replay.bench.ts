/**
 * Replay benchmark (npm run bench:replay): one host with 1,000,000 events, decided by the real
 * decider and appended through the store, replayed with its hash chain checked from an NDJSON
 * export, from PostgreSQL, and from Kafka when KAFKA_BROKERS is set. Also times loading the
 * host from its latest snapshot. Prints figures, then one JSON line last.
 *
 * Environment: REPLAY_BENCH_EVENTS (default 1,000,000); TEST_PG_URL (admin URL of the
 * PostgreSQL where a scratch database is created and dropped); KAFKA_BROKERS, KAFKA_TOPIC.
 */
import { randomUUID } from 'node:crypto';
import { Kafka, logLevel } from 'kafkajs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CliContext } from '../src/cli/cli-context';
import { exportCommand } from '../src/cli/commands/export';
import type { HostCommand, HostEvent } from '../src/model';
import { decide, evolve } from '../src/domain';
import { KafkaTransport } from '../src/messaging/kafka/kafka-transport';
import type { EventSource } from '../src/replay/event-source';
import { NdjsonFileSource } from '../src/replay/file-source';
import { KafkaEventSource } from '../src/replay/kafka-source';
import { PostgresReplay } from '../src/replay/postgres-replay';
import { replayHost } from '../src/replay/replay';
import { hardwareAt } from '../src/replay/state-at';
import { openDatabase, type Database } from '../src/store/database';
import { EventReads } from '../src/store/event-reads';
import { EventStore } from '../src/store/event-store';
import { SnapshotStore } from '../src/store/snapshot-store';
import { createTestDatabase } from '../test/support/postgres';
import { initialHostState, serializeHostState } from '../src/composition/host-state';

const EVENTS = Number(process.env.REPLAY_BENCH_EVENTS ?? 1_000_000);
const HOST = 'bench-replay';
const FDS = 256;
/** Events per append: the store takes them as one request, as it would a large command. */
const APPEND_CHUNK = 5_000;
const UNLIMITED = { quotasFor: () => ({ maxFds: Number.MAX_SAFE_INTEGER, maxHostPasids: Number.MAX_SAFE_INTEGER }) };

const rid = (f: number) => `0000:${(f >> 5).toString(16).padStart(2, '0')}:${(f & 31).toString(16).padStart(2, '0')}.0`;

/**
 * The commands of a busy host: 256 VMs in global mode, each cycling ioasids through attach,
 * hwid, bind, KVM mapping and back; one in eight keeps its ioasid, so standing state grows too.
 * `run` decides and applies a command and returns its events.
 */
function* workload(run: (command: HostCommand) => HostEvent[]): Generator<void> {
  const devices = Array.from({ length: FDS }, (_, f) => ({ rid: rid(f), kind: 'vf' as const, pasidBits: 20 }));
  run({ type: 'RegisterHost', hostId: HOST, pasidBits: 20, enqcmd: true, nestedPasidTable: false, devices });
  for (let f = 0; f < FDS; f++) {
    run({ type: 'CreateFd', fdId: `fd-${f}`, tenantId: `t-${f % 8}`, vmId: `vm-${f}` });
    run({ type: 'SetHwidMode', fdId: `fd-${f}`, mode: 'global' });
    run({ type: 'SetGlobalMin', fdId: `fd-${f}`, globalMin: 4096 });
  }
  for (let cycle = 0; ; cycle++) {
    const f = cycle % FDS;
    const fdId = `fd-${f}`;
    const keep = cycle % 8 === 0 && cycle < FDS * 8 * 64;
    const [allocated] = run({ type: 'AllocIoasid', fdId });
    const ioasid = (allocated!.data as { ioasid: number }).ioasid;
    run({ type: 'AttachDevice', fdId, ioasid, rid: rid(f), enqcmd: true });
    const pasid = keep ? 1 + (((cycle / FDS) | 0) % 4000) : 4001;
    const [hwid] = run({ type: 'SetHwid', fdId, ioasid, pasid });
    run({ type: 'BindPgtable', fdId, ioasid, gpa: `0x${(0x100000 + (cycle % 65536) * 0x1000).toString(16)}` });
    run({ type: 'SetKvmPasidMapping', fdId, guestPasid: pasid, hostPasid: (hwid!.data as { globalPasid: number }).globalPasid });
    if (!keep) {
      run({ type: 'UnsetKvmPasidMapping', fdId, guestPasid: pasid });
      run({ type: 'UnbindPgtable', fdId, ioasid });
      run({ type: 'DetachDevice', fdId, ioasid, rid: rid(f) });
      run({ type: 'FreeIoasid', fdId, ioasid });
    }
    yield;
  }
}

/** Decides EVENTS events and appends them through the store; saves the final decider state as a snapshot. */
async function populate(db: Database): Promise<void> {
  const store = new EventStore(db.dataSource);
  const state = initialHostState();
  let pending: HostEvent[] = [];
  let appended = 0;
  const flush = async (events: HostEvent[]) => {
    await store.append({ hostId: HOST, expectedVersion: appended, events, actor: 'operator', commandId: `bench-${appended}`, correlationId: 'bench' });
    appended += events.length;
  };
  const run = (command: HostCommand): HostEvent[] => {
    const events = decide(command, state, UNLIMITED);
    for (const e of events) evolve(state, e);
    pending.push(...events);
    return events;
  };
  for (const _ of workload(run)) {
    while (pending.length >= APPEND_CHUNK && appended < EVENTS) {
      const chunk = pending.slice(0, Math.min(APPEND_CHUNK, EVENTS - appended));
      pending = pending.slice(chunk.length);
      await flush(chunk);
    }
    if (appended >= EVENTS) break;
  }
  // The decider ran ahead of the appends: the snapshot must be of the state at EVENTS, so rebuild it from the store.
  const reads = new EventReads(db.dataSource);
  const atEnd = initialHostState();
  for await (const batch of reads.stream(HOST)) for (const e of batch) evolve(atEnd, { type: e.type, data: e.data } as HostEvent);
  await new SnapshotStore(db.dataSource).save(HOST, atEnd.version, JSON.stringify(serializeHostState(atEnd)));
}

/** The best of `runs` full replays of the host, in events per second. */
async function eventsPerSec(source: EventSource, runs: number): Promise<number> {
  let best = 0;
  for (let i = 0; i < runs; i++) {
    const start = process.hrtime.bigint();
    const cpuBefore = process.cpuUsage();
    const outcome = await replayHost(source, HOST);
    const seconds = Number(process.hrtime.bigint() - start) / 1e9;
    // CPU of every thread of this process (a file replay has a reader thread): on a shared machine the
    // wall-clock rate moves with the load, the CPU cost per event much less.
    const cpu = process.cpuUsage(cpuBefore);
    if (outcome.problem || outcome.head.version !== EVENTS) throw new Error(`${source.name}: replay reached ${outcome.head.version}: ${outcome.problem?.reason}`);
    best = Math.max(best, EVENTS / seconds);
    console.log(
      `  ${source.name}: ${EVENTS} events in ${seconds.toFixed(2)} s (${Math.round(EVENTS / seconds)} events/s), ` +
        `CPU ${((cpu.user + cpu.system) / EVENTS).toFixed(1)} µs/event, hash ${outcome.hardware.hash().slice(0, 16)}...`,
    );
  }
  return Math.round(best);
}

/** Null when the cluster no longer holds the whole host (retention cut the head of the partition): nothing to replay from. */
async function kafkaRate(brokers: string[], file: string): Promise<number | null> {
  const topic = `${process.env.KAFKA_TOPIC ?? 'ioasid.events'}.replay-bench-${randomUUID()}`;
  const transport = new KafkaTransport({ brokers, topic, mode: 'publish' });
  try {
    let batch: Parameters<KafkaTransport['publish']>[0] = [];
    for await (const events of new NdjsonFileSource(file).read(HOST, 0)) {
      batch.push(...events.map((e) => e.envelope));
      if (batch.length >= 10_000) {
        await transport.publish(batch);
        batch = [];
      }
    }
    if (batch.length) await transport.publish(batch);
  } finally {
    await transport.close();
  }
  const admin = new Kafka({ clientId: 'replay-bench', brokers, logLevel: logLevel.NOTHING }).admin();
  await admin.connect();
  const offsets = await admin.fetchTopicOffsets(topic).finally(() => admin.disconnect());
  const dropped = offsets.reduce((n, o) => n + Number(o.low), 0);
  if (dropped > 0) {
    console.log(`kafka: the cluster dropped the first ${dropped} messages of ${topic} (retention): no full replay to time`);
    return null;
  }
  console.log(`published to ${topic}`);
  return eventsPerSec(new KafkaEventSource({ brokers, topic }), 2);
}

async function main(): Promise<void> {
  const scratch = await createTestDatabase('ioasid_bench');
  const dir = await mkdtemp(join(tmpdir(), 'ioasid-replay-bench-'));
  const db = await openDatabase({ databaseUrl: scratch.url, dataDir: dir, poolSize: 3 });
  try {
    let t = Date.now();
    await populate(db);
    console.log(`populate: ${EVENTS} events decided and appended through the store in ${((Date.now() - t) / 1000).toFixed(1)} s`);

    t = Date.now();
    const file = join(dir, `${HOST}.ndjson`);
    await exportCommand(CliContext.fromEnv({ DATABASE_URL: scratch.url }), { host: HOST, out: file });
    console.log(`export: ${((Date.now() - t) / 1000).toFixed(1)} s`);

    const postgres = new PostgresReplay(db.dataSource);
    console.log('replay (hash chain checked, from version 1):');
    const fileEventsPerSec = await eventsPerSec(new NdjsonFileSource(file), 2);
    const postgresEventsPerSec = await eventsPerSec(postgres.source, 2);
    const brokers = process.env.KAFKA_BROKERS?.split(',').map((b) => b.trim()).filter(Boolean);
    const kafkaEventsPerSec = brokers?.length ? await kafkaRate(brokers, file) : null;

    const start = process.hrtime.bigint();
    const loaded = await hardwareAt(postgres.source, HOST, {}, { shortcuts: postgres.shortcuts });
    const ms = Number(process.hrtime.bigint() - start) / 1e6;
    console.log(`snapshot: the ${loaded.head.version}-event host loaded from its snapshot at version ${loaded.startedAfter} in ${ms.toFixed(0)} ms`);

    console.log(JSON.stringify({ fileEventsPerSec, postgresEventsPerSec, kafkaEventsPerSec }));
  } finally {
    await db.close();
    await scratch.drop();
    await rm(dir, { recursive: true, force: true });
  }
}

main().catch((e: unknown) => {
  console.error(e);
  process.exitCode = 1;
});
