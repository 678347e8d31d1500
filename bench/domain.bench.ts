/**
 * Domain benchmarks (npm run bench:domain; needs --expose-gc). Prints figures, then one JSON
 * line last: allocator speed against a naive allocator, its cost when full versus empty,
 * hardware replay speed of a 1,000,000-event log, the heap of a host holding 1M PASIDs
 * (emulated hardware; the whole decider state beside it) and its snapshot load time, and the
 * heap of a small host (4 and 10 PASIDs).
 */
import { evolve } from '../src/domain';
import type { HostEvent } from '../src/model';
import { HostHardware, PasidAllocator, replayHardware } from '../src/hardware';
import { fleetHost, standingFdId } from './support/fleet-populate';
import { HostDriver, vfRid } from './support/host-driver';
import { deserializeHostState, initialHostState, serializeHostState, type HostState } from '../src/composition/host-state';

const SPACE = 1 << 20;

/** Deterministic PRNG (mulberry32) so that every run measures the same work. */
function random(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function shuffled(n: number, seed: number): Int32Array {
  const out = new Int32Array(n);
  for (let i = 0; i < n; i++) out[i] = i + 1;
  const rnd = random(seed);
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(rnd() * (i + 1));
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

/** The plain way: a Set of used ids and a cursor below which everything is used. */
class NaiveAllocator {
  private readonly used = new Set<number>();
  private cursor = 1;
  constructor(private readonly size: number) {}
  alloc(): number | undefined {
    let id = this.cursor;
    while (id < this.size && this.used.has(id)) id++;
    if (id >= this.size) return undefined;
    this.used.add(id);
    this.cursor = id + 1;
    return id;
  }
  release(id: number): void {
    this.used.delete(id);
    if (id < this.cursor) this.cursor = id;
  }
}

function seconds(fn: () => void): number {
  const start = process.hrtime.bigint();
  fn();
  return Number(process.hrtime.bigint() - start) / 1e9;
}

function fillAndDrain(alloc: () => number | undefined, release: (id: number) => void, order: Int32Array): number {
  const n = order.length;
  const t = seconds(() => {
    for (let i = 0; i < n; i++) if (alloc() === undefined) throw new Error('allocator ran out early');
    for (let i = 0; i < n; i++) release(order[i]!);
  });
  return (2 * n) / t;
}

function allocatorThroughput(order: Int32Array): { fast: number; naive: number } {
  const best = (f: () => number) => Math.max(f(), f(), f());
  const fast = best(() => {
    const a = new PasidAllocator(SPACE);
    return fillAndDrain(() => a.alloc(1, SPACE), (id) => a.release(id), order);
  });
  const naive = best(() => {
    const a = new NaiveAllocator(SPACE);
    return fillAndDrain(() => a.alloc(), (id) => a.release(id), order);
  });
  return { fast, naive };
}

/** Seconds per alloc+release of the lowest free id with `fraction` of the space taken at random. */
function costAt(fraction: number, rounds: number): number {
  const a = new PasidAllocator(SPACE);
  const order = shuffled(SPACE - 1, 7);
  const taken = Math.floor((SPACE - 1) * fraction);
  for (let i = 0; i < taken; i++) a.reserve(order[i]!);
  let sink = 0;
  const t = seconds(() => {
    for (let i = 0; i < rounds; i++) {
      const id = a.alloc(1, SPACE)!;
      sink += id;
      a.release(id);
    }
  });
  if (sink === 0) throw new Error('no work done');
  return t / rounds;
}

/** One host, many fds cycling through alloc / attach / set-hwid / bind / map / unbind / detach / free. */
/** The log, plus the decider state it leads to as a JSON snapshot and its hardware hash (the driver itself is dropped). */
function buildReplayLog(target: number): { log: HostEvent[]; stateJson: string; hash: string } {
  const fds = 256;
  const driver = new HostDriver(true);
  const devices = [
    ...Array.from({ length: fds }, (_, i) => ({ rid: vfRid(i), kind: 'vf' as const, pasidBits: 20 })),
    { rid: 'siov:0', kind: 'siov' as const, pasidBits: 20 },
  ];
  driver.run({ type: 'RegisterHost', hostId: 'bench', pasidBits: 20, enqcmd: true, nestedPasidTable: true, devices });
  for (let f = 0; f < fds; f++) {
    const fdId = `fd-${f}`;
    driver.run({ type: 'CreateFd', fdId, tenantId: `t-${f % 8}`, vmId: `vm-${f}` });
    driver.run({ type: 'SetHwidMode', fdId, mode: 'global' });
    driver.run({ type: 'SetGlobalMin', fdId, globalMin: 4096 });
  }
  // Each fd keeps a few long-lived ioasids, so the log also builds up standing state.
  let cycle = 0;
  // Whole cycles (at most 11 events), then single-event steps up to the exact count.
  while (driver.events.length + 11 <= target) {
    const f = cycle % fds;
    const fdId = `fd-${f}`;
    const keep = cycle < fds * 8;
    const [allocated] = driver.run({ type: 'AllocIoasid', fdId });
    const ioasid = (allocated!.data as { ioasid: number }).ioasid;
    driver.run({ type: 'AttachDevice', fdId, ioasid, rid: vfRid(f), enqcmd: cycle % 2 === 0 });
    const siov = driver.run({ type: 'AttachDevice', fdId, ioasid, rid: 'siov:0', enqcmd: false });
    const mdevId = (siov[0]!.data as { mdevId: string }).mdevId;
    const guestPasid = 1 + ((cycle / fds) | 0) % 4000;
    const [hwid] = driver.run({ type: 'SetHwid', fdId, ioasid, pasid: keep ? guestPasid : 4000 + (f % 95) });
    const hostPasid = (hwid!.data as { globalPasid: number }).globalPasid;
    driver.run({ type: 'BindPgtable', fdId, ioasid, gpa: `0x${(0x100000 + cycle * 0x1000).toString(16)}` });
    driver.run({ type: 'SetKvmPasidMapping', fdId, guestPasid: keep ? guestPasid : 4000 + (f % 95), hostPasid });
    if (!keep) {
      driver.run({ type: 'UnsetKvmPasidMapping', fdId, guestPasid: 4000 + (f % 95) });
      driver.run({ type: 'UnbindPgtable', fdId, ioasid });
      driver.run({ type: 'DetachDevice', fdId, ioasid, rid: vfRid(f) });
      driver.run({ type: 'DetachDevice', fdId, ioasid, rid: 'siov:0', mdevId });
      driver.run({ type: 'FreeIoasid', fdId, ioasid });
    }
    cycle++;
  }
  while (driver.events.length < target) driver.run({ type: 'AllocIoasid', fdId: 'fd-0' });
  if (driver.events.length !== target) throw new Error(`the log has ${driver.events.length} events, not ${target}`);
  return { log: driver.events, stateJson: JSON.stringify(serializeHostState(driver.state)), hash: driver.state.hw.hash() };
}

function heapMB(): number {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (!gc) throw new Error('run with node --expose-gc');
  gc();
  gc();
  // Typed arrays (the PASID owner tables) live outside the JS heap: they are counted too.
  const usage = process.memoryUsage();
  return (usage.heapUsed + usage.arrayBuffers) / (1024 * 1024);
}

/**
 * A host holding 1,000,000 global PASIDs: 978 fds (one vf each), every fd with 1023 ioasids
 * whose hwids stay after their device is detached. Measures the heap of the emulated
 * hardware alone (what projections, replay and verify hold) and of the whole decider state
 * (hardware plus the logical fd model, what the write side holds), and how long loading
 * the decider state from its snapshot and hashing the hardware take at that size.
 */
function host1MPasids(): { hardware: number; state: number; pasids: number; loadSeconds: number; hashSeconds: number } {
  const fds = 978;
  const perFd = 1023;
  let driver: HostDriver | undefined = new HostDriver(false);
  const devices = Array.from({ length: fds }, (_, i) => ({ rid: vfRid(i), kind: 'vf' as const, pasidBits: 20 }));
  driver.run({ type: 'RegisterHost', hostId: 'heap', pasidBits: 20, enqcmd: true, nestedPasidTable: false, devices });
  let pasids = 0;
  for (let f = 0; f < fds; f++) {
    const fdId = `fd-${f}`;
    driver.run({ type: 'CreateFd', fdId, tenantId: `t-${f % 16}`, vmId: `vm-${f}` });
    driver.run({ type: 'SetHwidMode', fdId, mode: 'global' });
    driver.run({ type: 'SetGlobalMin', fdId, globalMin: 1024 });
    for (let i = 1; i <= perFd && pasids < 1_000_000; i++) {
      driver.run({ type: 'AllocIoasid', fdId });
      driver.run({ type: 'AttachDevice', fdId, ioasid: i, rid: vfRid(f), enqcmd: false });
      driver.run({ type: 'SetHwid', fdId, ioasid: i, pasid: i });
      driver.run({ type: 'DetachDevice', fdId, ioasid: i, rid: vfRid(f) });
      pasids++;
    }
  }
  if (driver.state.hw.pasidsInUse() !== pasids) throw new Error('the host does not hold the PASIDs it should');
  const stateJson = JSON.stringify(serializeHostState(driver.state));
  const hardwareJson = JSON.stringify(driver.state.hw.toSnapshot());
  const liveHash = driver.state.hw.hash();
  driver = undefined;

  // Each figure is the heap with the object alive minus the heap once it is dropped.
  let hw: HostHardware | undefined = HostHardware.fromSnapshot(JSON.parse(hardwareJson));
  let hash = '';
  const hashSeconds = seconds(() => {
    hash = hw!.hash();
  });
  if (hash !== liveHash || hw.pasidsInUse() !== pasids) throw new Error('the hardware snapshot lost something');
  const withHardware = heapMB();
  hw = undefined;
  const hardware = withHardware - heapMB();

  let state: HostState | undefined;
  const loadSeconds = seconds(() => {
    state = deserializeHostState(JSON.parse(stateJson));
  });
  if (state!.hw.pasidsInUse() !== pasids) throw new Error('the state snapshot lost PASIDs');
  const withState = heapMB();
  state = undefined;
  const stateMB = withState - heapMB();
  return { hardware, state: stateMB, pasids, loadSeconds, hashSeconds };
}

/**
 * The heap of one small host, as 2,000 of them in one process show it (heap with them alive
 * minus heap once dropped, divided): one SIOV device and one VM fd holding `pasids` global
 * PASIDs, each with its device attached and its entry programmed. Decider state (what an API
 * process caches) and emulated hardware alone (what a projector caches).
 */
function smallHostKB(pasids: number): { state: number; hardware: number } {
  const hosts = 2000;
  const logs = Array.from({ length: hosts }, (_, i) => JSON.parse(JSON.stringify(fleetHost(`small-${i}`, standingFdId(i), 't-small', pasids))) as HostEvent[]);
  const base = heapMB();
  let states: HostState[] | undefined = logs.map((log) => {
    const state = initialHostState();
    for (const event of log) evolve(state, event);
    return state;
  });
  const withStates = heapMB();
  let hardware: HostHardware[] | undefined = states.map((s) => s.hw);
  states = undefined;
  const withHardware = heapMB();
  const perHostKB = (mb: number) => Number((((mb - base) * 1024) / hosts).toFixed(1));
  const result = { state: perHostKB(withStates), hardware: perHostKB(withHardware) };
  hardware = undefined;
  return result;
}

function main(): void {
  const small = smallHostKB(4);
  const fleetSized = smallHostKB(10);
  console.log(`heap: a host with 4 PASIDs: decider state ${small.state} KB, hardware alone ${small.hardware} KB; with 10 PASIDs (bench:fleet's hosts): ${fleetSized.state} KB, ${fleetSized.hardware} KB`);

  const order = shuffled(SPACE - 1, 42);
  const { fast, naive } = allocatorThroughput(order);
  console.log(`allocator: fill 2^20-1 then free in random order: ${(fast / 1e6).toFixed(2)} M ops/s (naive Set-based: ${(naive / 1e6).toFixed(2)} M ops/s, ${(fast / naive).toFixed(1)}x)`);

  const rounds = 1_000_000;
  costAt(0.5, rounds / 10); // warm-up
  const low = Math.min(costAt(0.01, rounds), costAt(0.01, rounds));
  const high = Math.min(costAt(0.99, rounds), costAt(0.99, rounds));
  console.log(`allocator: alloc+release at 1% full ${(low * 1e9).toFixed(1)} ns, at 99% full ${(high * 1e9).toFixed(1)} ns (ratio ${(high / low).toFixed(2)})`);

  const buildStart = Date.now();
  const built = buildReplayLog(1_000_000);
  const { stateJson, hash: liveHash } = built;
  // Replay reads events parsed from the store, Kafka or a file: the log goes through JSON once, untimed.
  const log = JSON.parse(JSON.stringify(built.log)) as HostEvent[];
  built.log = [];
  console.log(`replay: built a ${log.length}-event log through the decider in ${((Date.now() - buildStart) / 1000).toFixed(1)} s`);

  let loaded: HostState | undefined;
  const loadSeconds = Math.min(
    ...[0, 1, 2].map(() =>
      seconds(() => {
        loaded = deserializeHostState(JSON.parse(stateJson));
      }),
    ),
  );
  if (loaded!.hw.hash() !== liveHash) throw new Error('the snapshot does not restore the state');
  loaded = undefined;
  console.log(`snapshot: the state after those ${log.length} events loads from its ${(stateJson.length / 1e6).toFixed(1)} MB JSON in ${(loadSeconds * 1000).toFixed(1)} ms`);

  replayHardware(log.slice(0, 200_000)); // warm-up
  let replayRate = 0;
  // Best of five: the machine is shared, the best run is the one least disturbed.
  for (let i = 0; i < 5; i++) {
    let hw: HostHardware | undefined;
    const t = seconds(() => {
      hw = replayHardware(log);
    });
    replayRate = Math.max(replayRate, log.length / t);
    if (hw!.hash() !== liveHash) throw new Error('replay does not reach the live state');
  }
  console.log(`replay: ${(replayRate / 1e3).toFixed(0)} k events/s (same hash as the live state)`);
  log.length = 0;

  const big = host1MPasids();
  console.log(`heap: host holding ${big.pasids} PASIDs: emulated hardware ${big.hardware.toFixed(1)} MB, whole decider state (hardware + fd model) ${big.state.toFixed(1)} MB`);
  console.log(`at 1M PASIDs: loading the decider state from its JSON snapshot ${(big.loadSeconds * 1000).toFixed(0)} ms, hardware hash ${(big.hashSeconds * 1000).toFixed(0)} ms`);

  console.log(
    JSON.stringify({
      allocatorOpsPerSec: Math.round(fast),
      naiveAllocatorOpsPerSec: Math.round(naive),
      allocatorFullToEmptyRatio: Number((high / low).toFixed(3)),
      replayEventsPerSec: Math.round(replayRate),
      heapMBFor1MPasids: Number(big.state.toFixed(1)),
      heapKBPerHostWith4Pasids: small.state,
      heapKBPerHostWith4PasidsHardwareOnly: small.hardware,
      heapMBFor1MPasidsHardwareOnly: Number(big.hardware.toFixed(1)),
      snapshotLoadMsFor1MEvents: Number((loadSeconds * 1000).toFixed(1)),
      snapshotLoadMsFor1MPasids: Math.round(big.loadSeconds * 1000),
    }),
  );
}

main();
