import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { CoalescingQueue, countWithin } from '../../src/messaging/kafka/coalescing-queue';

/** A run that the test finishes by hand, so pushes can be made while it is in flight. */
function manualRuns() {
  const runs: Array<{ items: number[]; finish(error?: Error): void }> = [];
  const run = (items: number[]) =>
    new Promise<void>((resolve, reject) => runs.push({ items, finish: (error) => (error ? reject(error) : resolve()) }));
  return { runs, run };
}

const settle = () => new Promise((r) => setImmediate(r));

describe('CoalescingQueue', () => {
  it('runs one at a time, and what was pushed meanwhile goes into the next run, in push order, within the budget', async () => {
    const { runs, run } = manualRuns();
    const queue = new CoalescingQueue<number>(run, () => 1, 3);
    const first = queue.push([1, 2]);
    const second = queue.push([3, 4]);
    const third = queue.push([5, 6]);
    const fourth = queue.push([7]);
    await settle();
    assert.deepEqual(runs.map((r) => r.items), [[1, 2]], 'the first push runs alone; the others wait');
    runs[0].finish();
    await first;
    await settle();
    assert.deepEqual(runs[1].items, [3, 4], '[3,4] + [5,6] would exceed the budget of 3');
    runs[1].finish();
    await second;
    await settle();
    assert.deepEqual(runs[2].items, [5, 6, 7]);
    runs[2].finish();
    await Promise.all([third, fourth]);
  });

  it('rejects exactly the pushes of a failed run, and goes on with the next', async () => {
    const { runs, run } = manualRuns();
    const queue = new CoalescingQueue<number>(run, () => 1, 10);
    const inFlight = queue.push([1]);
    const a = queue.push([2]);
    const b = queue.push([3]);
    await settle();
    runs[0].finish();
    await inFlight;
    await settle();
    const later = queue.push([4]);
    runs[1].finish(new Error('broker gone'));
    await assert.rejects(a, /broker gone/);
    await assert.rejects(b, /broker gone/);
    await settle();
    assert.deepEqual(runs[2].items, [4]);
    assert.ok(queue.oldestQueuedAt() !== undefined, 'the unfinished push is waiting');
    runs[2].finish();
    await later;
    await settle();
    assert.equal(queue.oldestQueuedAt(), undefined);
  });

  it('countWithin takes the longest prefix within the budget, and at least one item', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 50 })), fc.integer({ min: 0, max: 200 }), (weights, budget) => {
        const n = countWithin(weights, (w) => w, budget);
        const sum = (k: number) => weights.slice(0, k).reduce((a, b) => a + b, 0);
        if (weights.length === 0) return n === 0;
        if (n < 1 || n > weights.length) return false;
        if (n > 1 && sum(n) > budget) return false;
        return n === weights.length || sum(n + 1) > budget;
      }),
    );
  });
});
