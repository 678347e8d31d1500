import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { replayHardware } from '../../src/hardware';
import type { HostEvent } from '../../src/model';
import { bigHostEvents, heapBytesEach, smallHostEvents } from '../support/heap';

/** The estimate the host caches count against the heap the hardware really holds: never under, at most a quarter over. */
function assertSlightOverEstimate(events: HostEvent[], copies: number): void {
  const estimate = replayHardware(events).approximateBytes();
  const measured = heapBytesEach(copies, () => replayHardware(events));
  assert.ok(estimate >= measured, `estimate ${estimate} B is under the ${measured.toFixed(0)} B measured`);
  assert.ok(estimate <= measured * 1.25, `estimate ${estimate} B is far over the ${measured.toFixed(0)} B measured`);
}

describe('the hardware footprint estimate (footprint.ts)', () => {
  it('is a slight over-estimate of the heap of small hosts (4 and 10 PASIDs, devices attached, entries programmed)', () => {
    assertSlightOverEstimate(smallHostEvents(4), 1000);
    assertSlightOverEstimate(smallHostEvents(10), 1000);
  });

  it('is a slight over-estimate of the heap of a host holding 20,000 PASIDs in 20 fds', () => {
    assertSlightOverEstimate(bigHostEvents(20, 1000), 30);
  });
});
