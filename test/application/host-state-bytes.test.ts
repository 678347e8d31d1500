import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { hostStateBytes } from '../../src/application/host-states';
import { initialHostState } from '../../src/composition/host-state';
import { evolve } from '../../src/domain';
import type { HostEvent } from '../../src/model';
import { bigHostEvents, heapBytesEach, smallHostEvents } from '../support/heap';

function stateOf(events: HostEvent[]) {
  const state = initialHostState();
  for (const event of events) evolve(state, event);
  return state;
}

/** What HostStates counts against HOST_CACHE_MB, against the heap a decider state really holds: never under, at most a quarter over. */
function assertSlightOverEstimate(events: HostEvent[], copies: number): void {
  const estimate = hostStateBytes(stateOf(events));
  const measured = heapBytesEach(copies, () => stateOf(events));
  assert.ok(estimate >= measured, `estimate ${estimate} B is under the ${measured.toFixed(0)} B measured`);
  assert.ok(estimate <= measured * 1.25, `estimate ${estimate} B is far over the ${measured.toFixed(0)} B measured`);
}

describe('hostStateBytes, the decider state estimate the host cache counts', () => {
  it('is a slight over-estimate of the heap of small hosts and of a host holding 20,000 PASIDs', () => {
    assertSlightOverEstimate(smallHostEvents(4), 1000);
    assertSlightOverEstimate(smallHostEvents(10), 1000);
    assertSlightOverEstimate(bigHostEvents(20, 1000), 30);
  });
});
