import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { EventEnvelope } from '../../src/model/envelope';
import { canonicalJson } from '../../src/model/canonical-json';
import { MalformedSourceError } from '../../src/replay/event-source';
import { NdjsonFileSource, SourceFileMissingError } from '../../src/replay/file-source';
import { replayHost } from '../../src/replay/replay';
import { UnknownHostError } from '../../src/replay/replay-errors';
import { verifyHost } from '../../src/replay/verify';
import { ArraySource, MemoryLog } from './memory-log';
import { runScenario, ScenarioHost, type VersionRecord } from './scenario';
import { copyLog, rechain } from './tamper';

describe('replay engine', () => {
  let log: EventEnvelope[];
  let both: EventEnvelope[];
  let versions: VersionRecord[];
  let dir: string;

  before(async () => {
    const memory = new MemoryLog();
    const host = new ScenarioHost('host-m', memory);
    await runScenario(host);
    // Another host interleaved: sources must keep to the host asked for.
    await runScenario(new ScenarioHost('host-n', memory));
    both = memory.envelopes;
    log = both.filter((e) => e.hostId === 'host-m');
    versions = host.versions;
    dir = await mkdtemp(join(tmpdir(), 'ioasid-replay-'));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('rebuilds the state of every version from an NDJSON file', async () => {
    const path = join(dir, 'host-m.ndjson');
    await writeFile(path, log.map((e) => canonicalJson(e)).join('\n') + '\n');
    const file = new NdjsonFileSource(path);
    for (const expected of versions) {
      const outcome = await replayHost(file, 'host-m', { toVersion: expected.version });
      assert.equal(outcome.problem, undefined);
      assert.deepEqual(outcome.hardware.view(), expected.view, `version ${expected.version}`);
    }
  });

  it('reads files of several hosts, in any key order, with blank lines', async () => {
    const path = join(dir, 'mixed.ndjson');
    const lines = both.flatMap((e, i) => (i % 5 === 0 ? [JSON.stringify(e), ''] : [JSON.stringify(e)]));
    await writeFile(path, lines.join('\n'));
    const outcome = await replayHost(new NdjsonFileSource(path), 'host-m');
    assert.equal(outcome.problem, undefined);
    assert.equal(outcome.hardware.hash(), versions.at(-1)!.view.hash);
    await assert.rejects(replayHost(new NdjsonFileSource(path), 'host-zz'), UnknownHostError);
  });

  it('says which line of a file is not an envelope, and which file is missing', async () => {
    const path = join(dir, 'broken.ndjson');
    await writeFile(path, `${canonicalJson(log[0])}\n{"not": "an envelope"}\n`);
    await assert.rejects(replayHost(new NdjsonFileSource(path), 'host-m'), (e: unknown) => e instanceof MalformedSourceError && /broken\.ndjson:2:/.test(e.message));
    await writeFile(path, `${canonicalJson(log[0])}\n{"trunc`);
    await assert.rejects(replayHost(new NdjsonFileSource(path), 'host-m'), /broken\.ndjson:2: not JSON/);
    await assert.rejects(replayHost(new NdjsonFileSource(join(dir, 'nope.ndjson')), 'host-m'), SourceFileMissingError);
  });

  it('stops at the first tampered version and keeps the state before it', async () => {
    const edited = copyLog(log);
    (edited[14]!.data as { pasid?: number }).pasid = 12;
    const outcome = await replayHost(new ArraySource(edited), 'host-m');
    assert.deepEqual(outcome.problem, { version: 15, kind: 'chain', reason: 'the recorded hash does not match the event content' });
    assert.equal(outcome.head.version, 14);
    assert.deepEqual(outcome.hardware.view(), versions[13]!.view);
  });

  it('reports an event the hardware refuses, even in a well-formed chain', async () => {
    // A forged second registration with a recomputed chain: the hardware refuses it.
    const forged = copyLog(log);
    forged[5] = { ...structuredClone(forged[0]!), version: 6, eventId: 'forged', prevHash: forged[4]!.hash };
    rechain(forged, 6);
    const outcome = await replayHost(new ArraySource(forged), 'host-m');
    assert.equal(outcome.problem?.version, 6);
    assert.equal(outcome.problem?.kind, 'fault');
    assert.equal(outcome.head.version, 5);
  });

  it('verify: a rewritten history with a recomputed chain is caught by the live state', async () => {
    const live = { name: 'the projection', version: versions.length, hash: versions.at(-1)!.view.hash };
    assert.deepEqual(await verifyHost(new ArraySource(log), 'host-m', { live: [live] }).then(({ hardware: _h, ...r }) => r), {
      hostId: 'host-m',
      ok: true,
      version: versions.length,
      hash: live.hash,
      compared: [live],
    });
    const rewritten = copyLog(log);
    // The last bind: its entries are still programmed at the end.
    const bind = rewritten.findLastIndex((e) => e.type === 'PgtableBound');
    const data = rewritten[bind]!.data as { gpa: string; programmed: Array<{ firstStageGpa: string }> };
    data.gpa = '0x666000';
    for (const entry of data.programmed) entry.firstStageGpa = '0x666000';
    rechain(rewritten, bind + 1);
    const report = await verifyHost(new ArraySource(rewritten), 'host-m', { live: [live] });
    assert.equal(report.ok, false);
    assert.equal(report.firstBadVersion, live.version, 'the chain is intact: the state differs at the live version');
    assert.match(report.reason!, /differs from the projection .* at version/);
  });

  it('verify: a live state ahead of the log means the tail of the log is gone', async () => {
    const live = { name: 'the projection', version: versions.length, hash: versions.at(-1)!.view.hash };
    const report = await verifyHost(new ArraySource(log.slice(0, -3)), 'host-m', { live: [live] });
    assert.equal(report.ok, false);
    assert.equal(report.firstBadVersion, versions.length - 2);
    assert.match(report.reason!, /missing.*the projection is at version/);
  });

  it('verify: each live state is compared at its own version', async () => {
    const behind = { name: 'the projection', version: 20, hash: versions[19]!.view.hash };
    const head = { name: 'the decider', version: versions.length, hash: versions.at(-1)!.view.hash };
    assert.equal((await verifyHost(new ArraySource(log), 'host-m', { live: [behind, head] })).ok, true);
    const wrong = { ...behind, hash: versions[20]!.view.hash };
    const report = await verifyHost(new ArraySource(log), 'host-m', { live: [wrong, head] });
    assert.deepEqual([report.ok, report.firstBadVersion], [false, 20]);
  });
});
