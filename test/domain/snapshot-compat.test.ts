import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { HostEvent } from '../../src/model';
import { evolveAll, fdView } from '../../src/domain';
import { deserializeHostState, initialHostState, serializeHostState } from '../../src/composition/host-state';
import { REPO_ROOT } from '../support/deploy-files';

/** Written by release 0.1.0 (test/domain/fixtures): a host's events and the snapshot it stored of their state. */
const RELEASE_0_1_0: { events: HostEvent[]; snapshot: { format: number; hardware: { format: number } } } = JSON.parse(
  readFileSync(join(REPO_ROOT, 'test', 'domain', 'fixtures', 'host-state-0.1.0.json'), 'utf8'),
);

describe('host state snapshots of earlier releases', () => {
  it('loads a snapshot written by release 0.1.0 (hardware format 2) into the state its events replay to', () => {
    assert.deepEqual([RELEASE_0_1_0.snapshot.format, RELEASE_0_1_0.snapshot.hardware.format], [3, 2]);
    const loaded = deserializeHostState(RELEASE_0_1_0.snapshot);
    const replayed = evolveAll(initialHostState(), RELEASE_0_1_0.events);
    assert.equal(loaded.version, RELEASE_0_1_0.events.length);
    assert.equal(loaded.hw.hash(), replayed.hw.hash());
    assert.deepEqual(loaded.hw.view(), replayed.hw.view());
    assert.deepEqual(serializeHostState(loaded), serializeHostState(replayed));
    for (const fdId of ['fd-l', 'fd-g']) assert.deepEqual(fdView(loaded, fdId), fdView(replayed, fdId));
    assert.equal(fdView(loaded, 'fd-g')!.hwidMode, 'global');
    assert.equal(serializeHostState(loaded).hardware.format, 3, 'written again in the current format');
  });
});
