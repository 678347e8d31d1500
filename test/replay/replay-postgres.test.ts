import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { PostgresEventSource } from '../../src/replay/postgres-source';
import { PostgresReplay } from '../../src/replay/postgres-replay';
import { replayHost } from '../../src/replay/replay';
import { ReplayTargetError, UnknownHostError } from '../../src/replay/replay-errors';
import { hardwareAt, type ReplayShortcuts } from '../../src/replay/state-at';
import { EventStore } from '../../src/store/event-store';
import { SnapshotStore } from '../../src/store/snapshot-store';
import { openScratchDatabase, type ScratchDatabase } from '../support/postgres';
import { runScenario, ScenarioHost } from './scenario';

describe('replay from PostgreSQL', () => {
  let db: ScratchDatabase;
  let host: ScenarioHost;
  let source: PostgresEventSource;
  let shortcuts: ReplayShortcuts;
  let snapshotVersion = 0;

  before(async () => {
    db = await openScratchDatabase();
    const store = new EventStore(db.dataSource);
    // Commands 15 ms apart: each has its own occurredAt instant for the --at cases.
    host = new ScenarioHost('host-pg', store, 15);
    await runScenario(host, async () => {
      snapshotVersion = await host.snapshot(new SnapshotStore(db.dataSource));
    });
    ({ source, shortcuts } = new PostgresReplay(db.dataSource));
  });
  after(async () => {
    await db?.close();
  });

  it('rebuilds, at every version, the hardware the write path had at that version', async () => {
    assert.ok(host.versions.length > 30, 'the scenario is long enough to mean something');
    for (const expected of host.versions) {
      const outcome = await replayHost(source, host.hostId, { toVersion: expected.version });
      assert.equal(outcome.problem, undefined);
      assert.equal(outcome.head.version, expected.version);
      assert.deepEqual(outcome.hardware.view(), expected.view, `state at version ${expected.version}`);
    }
  });

  it('replays to the end by default, with the chain head and the last occurredAt', async () => {
    const outcome = await replayHost(source, host.hostId);
    const last = host.envelopes[host.envelopes.length - 1]!;
    assert.deepEqual(outcome.head, { version: last.version, hash: last.hash });
    assert.equal(outcome.occurredAt, last.occurredAt);
    assert.equal(outcome.hardware.hash(), host.state.hw.hash());
  });

  it('--at picks the last event at or before the instant', async () => {
    const instants = [...new Set(host.versions.map((v) => v.occurredAt))];
    assert.ok(instants.length > 20, 'commands have distinct instants');
    for (const instant of instants) {
      const at = new Date(instant);
      const expected = host.versions.filter((v) => Date.parse(v.occurredAt) <= at.getTime()).at(-1)!;
      // Through the time index and snapshots, and by reading the events' own times: the same answer.
      for (const outcome of [await hardwareAt(source, host.hostId, { at }, { shortcuts }), await replayHost(source, host.hostId, { at })]) {
        assert.equal(outcome.head.version, expected.version, `at ${instant}`);
        assert.equal(outcome.hardware.hash(), expected.view.hash);
      }
      // A millisecond before: the previous command's last event.
      const before = new Date(at.getTime() - 1);
      const earlier = host.versions.filter((v) => Date.parse(v.occurredAt) <= before.getTime()).at(-1);
      assert.equal((await hardwareAt(source, host.hostId, { at: before }, { shortcuts })).head.version, earlier?.version ?? 0);
    }
  });

  it('starts from the nearest snapshot at or below the target, with the same result as from zero', async () => {
    assert.ok(snapshotVersion > 1 && snapshotVersion < host.versions.length);
    for (const expected of host.versions) {
      const outcome = await hardwareAt(source, host.hostId, { toVersion: expected.version }, { shortcuts });
      assert.equal(outcome.startedAfter, expected.version >= snapshotVersion ? snapshotVersion : 0, `start for version ${expected.version}`);
      assert.equal(outcome.hardware.hash(), expected.view.hash, `hash at version ${expected.version}`);
      assert.deepEqual(outcome.hardware.view(), expected.view);
    }
    const latest = await hardwareAt(source, host.hostId, {}, { shortcuts });
    assert.equal(latest.startedAfter, snapshotVersion);
    assert.equal(latest.hardware.hash(), (await replayHost(source, host.hostId)).hardware.hash());
  });

  it('names what it cannot do: an unknown host, a version past the end', async () => {
    await assert.rejects(replayHost(source, 'no-such-host'), UnknownHostError);
    await assert.rejects(replayHost(source, host.hostId, { toVersion: host.versions.length + 1 }), (e: unknown) => {
      assert.ok(e instanceof ReplayTargetError);
      assert.match(e.message, new RegExp(`no version ${host.versions.length + 1}.*its last is ${host.versions.length}`));
      return true;
    });
  });
});
