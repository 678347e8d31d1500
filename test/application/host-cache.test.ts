import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import fc from 'fast-check';
import { HostStates } from '../../src/application/host-states';
import { serializeHostState } from '../../src/composition/host-state';
import { evolveAll } from '../../src/domain';
import { DomainError, eventOf, type HostCommand } from '../../src/model';
import { STREAM_BATCH } from '../../src/store/event-reads';
import { EventStore } from '../../src/store/event-store';
import { SnapshotStore } from '../../src/store/snapshot-store';
import { createTenant, run, SIOV, startApplicationContext, VF, type ApplicationContext } from '../support/application-context';
import { TestHost } from '../support/domain-host';
import { createTestStorage, type TestStorage } from '../support/test-storage';

/** A step of a host's life: a command built from small numbers, so that many are valid and some are refused. */
type Step = { op: Op; fd: number; ioasid: number; pasid: number; evictBefore: boolean };
type Op = 'create' | 'alloc' | 'attach' | 'hwid' | 'bind' | 'detach' | 'free' | 'close';

/** fd 0 in local mode, fd 1 in global mode above 64: set up first, each step with its own chance of an eviction before it. */
function prologue(run: string, tenantId: string): HostCommand[] {
  return [0, 1].flatMap((fd): HostCommand[] => {
    const fdId = `${run}-fd${fd}`;
    const opened: HostCommand[] = [{ type: 'CreateFd', fdId, tenantId, vmId: `${run}-vm${fd}` }];
    return fd === 0
      ? [...opened, { type: 'SetHwidMode', fdId, mode: 'local' }]
      : [...opened, { type: 'SetHwidMode', fdId, mode: 'global' }, { type: 'SetGlobalMin', fdId, globalMin: 64 }];
  });
}

function commandOf(step: Step, run: string, tenantId: string): HostCommand {
  const fdId = `${run}-fd${step.fd}`;
  const rid = step.pasid % 3 === 0 ? SIOV.rid : VF.rid;
  const { ioasid, pasid } = step;
  switch (step.op) {
    case 'create':
      return { type: 'CreateFd', fdId, tenantId, vmId: `${run}-vm${step.fd}` };
    case 'alloc':
      return { type: 'AllocIoasid', fdId };
    case 'attach':
      return { type: 'AttachDevice', fdId, ioasid, rid, enqcmd: pasid % 4 === 0 };
    case 'hwid':
      return { type: 'SetHwid', fdId, ioasid, pasid };
    case 'bind':
      return { type: 'BindPgtable', fdId, ioasid, gpa: `0x${(0x1000 * (pasid + 1)).toString(16)}` };
    case 'detach':
      return { type: 'DetachDevice', fdId, ioasid, rid };
    case 'free':
      return { type: 'FreeIoasid', fdId, ioasid };
    case 'close':
      return { type: 'CloseFd', fdId };
    default: {
      const _: never = step.op;
      throw new Error(`unknown step ${String(_)}`);
    }
  }
}

const op: fc.Arbitrary<Op> = fc.oneof(
  { arbitrary: fc.constant('alloc' as const), weight: 4 },
  { arbitrary: fc.constant('attach' as const), weight: 4 },
  { arbitrary: fc.constant('hwid' as const), weight: 4 },
  { arbitrary: fc.constant('bind' as const), weight: 1 },
  { arbitrary: fc.constant('detach' as const), weight: 2 },
  { arbitrary: fc.constant('free' as const), weight: 2 },
  { arbitrary: fc.constant('close' as const), weight: 1 },
  { arbitrary: fc.constant('create' as const), weight: 1 },
);

const step: fc.Arbitrary<Step> = fc.record({
  op,
  fd: fc.nat({ max: 1 }),
  ioasid: fc.integer({ min: 1, max: 3 }),
  pasid: fc.integer({ min: 1, max: 20 }),
  evictBefore: fc.boolean(),
});

/** What a command answered: its body, or the code it was refused with. */
async function outcomeOf(ctx: ApplicationContext, hostId: string, command: HostCommand): Promise<unknown> {
  try {
    const response = await run(ctx, command, { hostId });
    return { body: response.body };
  } catch (e) {
    if (e instanceof DomainError) return { refused: e.code };
    throw e;
  }
}

function referenceOutcome(reference: TestHost, command: HostCommand): unknown {
  try {
    return { body: reference.run(command).result };
  } catch (e) {
    if (e instanceof DomainError) return { refused: e.code };
    throw e;
  }
}

/**
 * Runs random scripts on fresh hosts of `ctx`, evicting the host (`evict`) before the steps
 * that say so and after the last, and checks every answer, the events and the reloaded state
 * against a reference host that never left memory. `afterLastEviction` checks more once the
 * host is out of the cache.
 */
async function evictedHostsDecideAsCached(
  ctx: ApplicationContext,
  tenantId: string,
  evict: (hostId: string) => Promise<void>,
  afterLastEviction: (hostId: string, reference: TestHost) => Promise<void> = async () => undefined,
): Promise<void> {
  const states = ctx.app.get(HostStates);
  const store = ctx.app.get(EventStore);
  await fc.assert(
    fc.asyncProperty(fc.array(fc.boolean(), { minLength: 6, maxLength: 6 }), fc.array(step, { minLength: 1, maxLength: 30 }), async (evictions, steps) => {
      const runId = `ev${++runs}`;
      const hostId = `${runId}-host`;
      const reference = new TestHost();
      const register: HostCommand = { type: 'RegisterHost', hostId, pasidBits: 8, enqcmd: true, nestedPasidTable: true, devices: [VF, SIOV].map((d) => ({ ...d, pasidBits: 8 })) };
      reference.run(register);
      await run(ctx, register, { hostId });
      const script = [
        ...prologue(runId, tenantId).map((command, i) => ({ command, evictBefore: evictions[i]! })),
        ...steps.map((s) => ({ command: commandOf(s, runId, tenantId), evictBefore: s.evictBefore })),
      ];
      for (const { command, evictBefore } of script) {
        if (evictBefore) await evict(hostId);
        // The application answers with the HTTP status of the command; the reference only knows success.
        const actual = (await outcomeOf(ctx, hostId, command)) as { status?: number; body?: unknown; refused?: string };
        const expected = referenceOutcome(reference, command) as { body?: unknown; refused?: string };
        assert.deepEqual(actual.refused ?? actual.body, expected.refused ?? expected.body, `${command.type} after ${reference.state.version} events`);
      }
      await evict(hostId);
      await afterLastEviction(hostId, reference);
      const stored: unknown[] = [];
      for await (const batch of store.stream(hostId)) stored.push(...batch.map(eventOf));
      assert.deepEqual(stored, JSON.parse(JSON.stringify(reference.log)), 'the same decisions, event for event');
      const reloaded = await states.exclusive(hostId, () => states.current(hostId));
      assert.equal(reloaded.hw.hash(), reference.state.hw.hash());
      assert.deepEqual(serializeHostState(reloaded), serializeHostState(reference.state));
    }),
    { numRuns: 25 },
  );
}

let runs = 0;

describe('host cache: eviction and reload', () => {
  let storage: TestStorage;
  let ctx: ApplicationContext;
  let tenantId: string;

  before(async () => {
    storage = await createTestStorage('postgres');
    // Snapshots every 3 events: reloads start from snapshots at every distance from the head.
    ctx = await startApplicationContext(storage, { snapshotEvery: 3, role: 'api' });
    tenantId = (await createTenant(ctx, 'cache-tenant')).tenantId;
  });
  after(async () => {
    await ctx?.close();
    await storage?.dispose();
  });

  it('a host evicted at random points decides exactly as one that stayed cached', async () => {
    const states = ctx.app.get(HostStates);
    await evictedHostsDecideAsCached(ctx, tenantId, (hostId) => states.exclusive(hostId, async () => states.discard(hostId)));
  });

  it('loads a host longer than one read whole: from its start, after a snapshot, and past a snapshot it cannot read', async () => {
    const states = ctx.app.get(HostStates);
    const hostId = 'long-host';
    const reference = new TestHost();
    reference.run({ type: 'RegisterHost', hostId, pasidBits: 20, enqcmd: true, nestedPasidTable: true, devices: [VF] });
    reference.run({ type: 'CreateFd', fdId: 'long-fd', tenantId, vmId: 'long-vm' });
    while (reference.log.length <= 2 * STREAM_BATCH) {
      const { ioasid } = reference.run({ type: 'AllocIoasid', fdId: 'long-fd' }).result as { ioasid: number };
      if (reference.log.length % 3) reference.run({ type: 'FreeIoasid', fdId: 'long-fd', ioasid });
    }
    const store = ctx.app.get(EventStore);
    for (let at = 0; at < reference.log.length; at += 1000) {
      await store.append({ hostId, expectedVersion: at, events: reference.log.slice(at, at + 1000), actor: 'operator', commandId: `long-${at}`, correlationId: 'long' });
    }
    const loaded = async () => {
      await states.exclusive(hostId, async () => states.discard(hostId));
      return serializeHostState(await states.exclusive(hostId, () => states.current(hostId)));
    };
    assert.deepEqual(await loaded(), serializeHostState(reference.state), 'from the first event');
    const snapshotAt = new TestHost();
    for (const event of reference.log.slice(0, 7)) evolveAll(snapshotAt.state, [event]);
    await ctx.app.get(SnapshotStore).save(hostId, 7, JSON.stringify(serializeHostState(snapshotAt.state)));
    assert.deepEqual(await loaded(), serializeHostState(reference.state), 'from a snapshot, more than a read behind the head');
    await ctx.app.get(SnapshotStore).save(hostId, 9, JSON.stringify({ format: 99 }));
    assert.deepEqual(await loaded(), serializeHostState(reference.state), 'past a snapshot it cannot read');
  });
});

describe('host cache: eviction by its bound, and the snapshot of an evicted host', () => {
  /** About 39 KB of decider states: the test's host and two or three others (7 to 16 KB each). */
  const TINY_CACHE_MB = 0.04;
  const FILLERS = 6;
  let storage: TestStorage;
  let ctx: ApplicationContext;
  let tenantId: string;
  let states: HostStates;
  let snapshots: SnapshotStore;
  const fillers = Array.from({ length: FILLERS }, (_, i) => `filler-${i}`);
  /** Reads every filler host: together they outgrow the cache, so the least recently used host goes. */
  const evictByTheBound = async () => {
    for (const filler of fillers) await states.exclusive(filler, () => states.current(filler));
  };

  before(async () => {
    storage = await createTestStorage('postgres');
    // Snapshots every 4 events; a host evicted 2 or more events past its latest snapshot is snapshotted.
    ctx = await startApplicationContext(storage, { snapshotEvery: 4, role: 'api', hostCacheMb: TINY_CACHE_MB });
    tenantId = (await createTenant(ctx, 'bound-tenant')).tenantId;
    states = ctx.app.get(HostStates);
    snapshots = ctx.app.get(SnapshotStore);
    for (const hostId of fillers) {
      await run(ctx, { type: 'RegisterHost', hostId, pasidBits: 8, enqcmd: true, nestedPasidTable: true, devices: [VF, SIOV].map((d) => ({ ...d, pasidBits: 8 })) }, { hostId });
    }
  });
  after(async () => {
    await ctx?.close();
    await storage?.dispose();
  });

  it('a host evicted by the bound, snapshotted as it goes, decides exactly as one that stayed cached', async () => {
    let snapshotted = 0;
    await evictedHostsDecideAsCached(ctx, tenantId, evictByTheBound, async (hostId, reference) => {
      await states.snapshotsWritten();
      const latest = await snapshots.latest(hostId);
      // At most one event past the snapshot when evicted: fewer than half of SNAPSHOT_EVERY are left to replay.
      assert.ok((latest?.version ?? 0) >= reference.state.version - 1, `snapshot at ${latest?.version} for a host at ${reference.state.version}`);
      if (latest?.version === reference.state.version && reference.state.version % 4 !== 0) snapshotted++;
    });
    assert.ok(snapshotted > 0, 'some hosts were snapshotted on eviction, between the periodic snapshots');
  });

  it('never snapshots an evicted state whose events did not commit', async () => {
    const hostId = 'uncommitted-host';
    await run(ctx, { type: 'RegisterHost', hostId, pasidBits: 8, enqcmd: true, nestedPasidTable: true, devices: [VF, SIOV].map((d) => ({ ...d, pasidBits: 8 })) }, { hostId });
    const fdId = 'uncommitted-fd';
    await run(ctx, { type: 'CreateFd', fdId, tenantId, vmId: 'uncommitted-vm' }, { hostId });
    await run(ctx, { type: 'SetHwidMode', fdId, mode: 'local' });
    const head = (await states.exclusive(hostId, () => states.current(hostId))).version;
    assert.equal(head, 3, 'two events past the snapshot-free start: far enough to be snapshotted when evicted');
    await states.exclusive(hostId, async () => {
      // What the write path does: evolve the cached state, then append; here the append fails after the eviction.
      const state = await states.cached(hostId);
      evolveAll(state, [{ type: 'IoasidAllocated', data: { fdId, ioasid: 1 } }]);
      await evictByTheBound();
      states.discard(hostId);
    });
    await states.snapshotsWritten();
    assert.equal(await snapshots.latest(hostId), undefined, 'no snapshot of a version that was never committed');
    const reloaded = await states.exclusive(hostId, () => states.current(hostId));
    assert.equal(reloaded.version, head);

    await evictByTheBound();
    await states.snapshotsWritten();
    assert.equal((await snapshots.latest(hostId))?.version, head, 'the committed state is snapshotted when evicted');
  });
});
