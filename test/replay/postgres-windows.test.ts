import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { HostCommand, HostEvent } from '../../src/model';
import { decide } from '../../src/domain/decide';
import { DEFAULT_QUOTAS } from '../../src/model/values';
import { evolve } from '../../src/domain/evolve';
import { PostgresReplay } from '../../src/replay/postgres-replay';
import { replayHost } from '../../src/replay/replay';
import { EventStore } from '../../src/store/event-store';
import { openScratchDatabase, type ScratchDatabase } from '../support/postgres';
import { tamper } from './tamper-sql';
import { initialHostState } from '../../src/composition/host-state';

/** Longer than two read windows of the PostgreSQL source (1,000 versions), and not a multiple of one. */
const LENGTH = 2_600;
const HOSTS = ['long-intact', 'long-gap', 'long-text', 'long-time'] as const;
const CTX = { quotasFor: () => DEFAULT_QUOTAS };

/** Appends LENGTH events of one busy fd (ioasids allocated and freed) in a few large appends; the hardware hash at the end. */
async function longHost(store: EventStore, hostId: string): Promise<string> {
  const state = initialHostState();
  const events: HostEvent[] = [];
  const run = (command: HostCommand) => {
    for (const e of decide(command, state, CTX)) {
      evolve(state, e);
      events.push(e);
    }
  };
  run({ type: 'RegisterHost', hostId, pasidBits: 20, enqcmd: true, nestedPasidTable: false, devices: [{ rid: '0000:3b:00.0', kind: 'vf', pasidBits: 20 }] });
  run({ type: 'CreateFd', fdId: `fd-${hostId}`, tenantId: 't-1', vmId: `vm-${hostId}` });
  while (events.length < LENGTH) {
    run({ type: 'AllocIoasid', fdId: `fd-${hostId}` });
    const ioasid = (events[events.length - 1]!.data as { ioasid: number }).ioasid;
    if (events.length < LENGTH) run({ type: 'FreeIoasid', fdId: `fd-${hostId}`, ioasid });
  }
  for (let at = 0; at < LENGTH; at += 700) {
    await store.append({ hostId, expectedVersion: at, events: events.slice(at, at + 700), actor: 'operator', commandId: `${hostId}-${at}`, correlationId: hostId });
  }
  return state.hw.hash();
}

describe('replay from PostgreSQL across read windows', () => {
  let db: ScratchDatabase;
  let replay: PostgresReplay;
  let intactHash = '';

  before(async () => {
    db = await openScratchDatabase();
    const store = new EventStore(db.dataSource);
    const hashes = await Promise.all(HOSTS.map((h) => longHost(store, h)));
    intactHash = hashes[0]!;
    replay = new PostgresReplay(db.dataSource);
    // At window edges: the first version of the second window, the last of the second.
    await tamper.deleteRow(db.dataSource, 'long-gap', 1_001);
    await db.dataSource.query(`UPDATE events SET command_id = $3 WHERE host_id = $1 AND version = $2`, ['long-text', 2_000, 'forged "quoted" \\ and\nnewline']);
    await db.dataSource.query(`UPDATE events SET occurred_at = occurred_at + interval '1 millisecond' WHERE host_id = $1 AND version = $2`, ['long-time', 1_500]);
  });
  after(async () => {
    await db?.close();
  });

  it('replays every version, with the hash chain checked, to the hardware the decider built', async () => {
    const outcome = await replayHost(replay.source, 'long-intact');
    assert.equal(outcome.problem, undefined);
    assert.equal(outcome.head.version, LENGTH);
    assert.equal(outcome.hardware.hash(), intactHash);
  });

  it('names a deleted row at the start of a window as missing', async () => {
    const { problem, head } = await replayHost(replay.source, 'long-gap');
    assert.deepEqual([problem?.version, problem?.kind, head.version], [1_001, 'chain', 1_000]);
    assert.match(problem!.reason, /version 1001 is missing/);
  });

  it('names an edited text column (quotes, backslash, newline) and an edited time by the first bad version', async () => {
    for (const [hostId, version] of [['long-text', 2_000], ['long-time', 1_500]] as const) {
      const { problem, head } = await replayHost(replay.source, hostId);
      assert.deepEqual([problem?.version, problem?.kind, head.version], [version, 'chain', version - 1], hostId);
      assert.equal(problem!.reason, 'the recorded hash does not match the event content');
    }
  });
});
