import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { HostStates } from '../../src/application/host-states';
import { deserializeHostState, serializeHostState } from '../../src/composition/host-state';
import { evolve, type HostStateSnapshot } from '../../src/domain';
import type { HostCommand, HostEvent } from '../../src/model';
import { EventStore } from '../../src/store/event-store';
import { SnapshotStore } from '../../src/store/snapshot-store';
import { createTenant, run, startApplicationContext, type ApplicationContext } from '../support/application-context';
import { TestHost } from '../support/domain-host';
import { appendOf } from '../support/host-events';
import { createTestStorage, type TestStorage } from '../support/test-storage';

interface Fixture {
  version: number;
  hash: string;
  events: HostEvent[];
  snapshot: HostStateSnapshot;
}

/**
 * A host driven by release b9f5878, the last with the dense PASID allocator: global PASIDs from
 * 1000 across a page boundary with holes, local-mode real PASIDs, entries, KVM mappings and
 * GPAs; its events and the decider-state snapshot that release wrote at the end.
 */
const fixture = JSON.parse(readFileSync(join(__dirname, '../../../test/fixtures/snapshot-b9f5878.json'), 'utf8')) as Fixture;

/** The decider state reached by evolving the events one by one: the path without a snapshot. */
function fromEvents(events: readonly HostEvent[]): TestHost {
  const host = new TestHost();
  for (const event of events) evolve(host.state, event);
  return host;
}

/** The fixture (events or snapshot) under another host id, its fd ids prefixed with it: each store test has its own host and fds. */
function renamed<T>(value: T, hostId: string, tenants: Record<string, string> = {}): T {
  let json = JSON.stringify(value).replaceAll('"old-release"', JSON.stringify(hostId)).replaceAll('"fd-', `"${hostId}-fd-`);
  for (const [from, to] of Object.entries(tenants)) json = json.replaceAll(JSON.stringify(from), JSON.stringify(to));
  return JSON.parse(json) as T;
}

describe('snapshots written by the previous release', () => {
  it('load into the same state as replaying the events, and decide the same next', () => {
    const loaded = deserializeHostState(JSON.parse(JSON.stringify(fixture.snapshot)));
    const reference = new TestHost();
    reference.state = deserializeHostState(JSON.parse(JSON.stringify(fixture.snapshot)));
    assert.equal(loaded.version, fixture.version);
    assert.equal(loaded.hw.hash(), fixture.hash, 'the hardware hash the old release computed');

    const replayed = fromEvents(fixture.events);
    assert.deepEqual(serializeHostState(loaded), serializeHostState(replayed.state));

    const next: HostCommand[] = [
      { type: 'AllocIoasid', fdId: 'fd-g' },
      { type: 'AttachDevice', fdId: 'fd-g', ioasid: 3, rid: '0000:00:00.0', enqcmd: false },
      { type: 'SetHwid', fdId: 'fd-g', ioasid: 3, pasid: 3 },
      { type: 'AllocIoasid', fdId: 'fd-l' },
      { type: 'AttachDevice', fdId: 'fd-l', ioasid: 13, rid: 'siov:0', enqcmd: false },
      { type: 'SetHwid', fdId: 'fd-l', ioasid: 13, pasid: 500 },
    ];
    for (const command of next) assert.deepEqual(reference.run(command).events, replayed.run(command).events, command.type);
    assert.equal(reference.state.hw.hash(), replayed.state.hw.hash());
  });
});

describe('snapshots of the previous release through the store', () => {
  let storage: TestStorage;
  let ctx: ApplicationContext;
  /** The fixture's tenants, as tenants of this store. */
  const tenants: Record<string, string> = {};

  before(async () => {
    storage = await createTestStorage('postgres');
    ctx = await startApplicationContext(storage, { role: 'api' });
    for (const name of ['t-1', 't-2']) tenants[name] = (await createTenant(ctx, name)).tenantId;
  });
  after(async () => {
    await ctx?.close();
    await storage?.dispose();
  });

  for (const [label, snapshotOf] of [
    ['is loaded', (hostId: string) => renamed(fixture.snapshot, hostId, tenants)],
    ['of an unknown format is ignored and the stream replayed', (hostId: string) => ({ ...renamed(fixture.snapshot, hostId, tenants), format: 99 })],
  ] as const) {
    it(label, async () => {
      const hostId = `old-release-${label.split(' ')[0]}`;
      const events = renamed(fixture.events, hostId, tenants);
      const states = ctx.app.get(HostStates);
      await ctx.app.get(EventStore).append(appendOf(hostId, 0, events));
      await ctx.app.get(SnapshotStore).save(hostId, fixture.version, JSON.stringify(snapshotOf(hostId)));
      const loaded = await states.exclusive(hostId, () => states.current(hostId));
      assert.equal(loaded.version, fixture.version);
            const reference = fromEvents(events);
      assert.deepEqual(serializeHostState(loaded), serializeHostState(reference.state));

      const command: HostCommand = { type: 'AllocIoasid', fdId: `${hostId}-fd-g` };
      const response = await run(ctx, command, { hostId });
      assert.deepEqual(response.body, reference.run(command).result);
    });
  }
});

