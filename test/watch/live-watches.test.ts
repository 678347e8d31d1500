import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { LiveWatches } from '../../src/application/watch/live-watches';
import { WatchSubscription, type FeedHub } from '../../src/application/watch/watch-subscription';
import type { EventEnvelope } from '../../src/model/envelope';
import { FeedEvent, type FeedFilter } from '../../src/store/event-feed-reads';
import { LOG_START } from '../../src/store/watch-cursor';

const hub: FeedHub = { head: LOG_START, started: async () => undefined, join: () => undefined, leave: () => undefined, page: async () => ({ events: [], highWater: LOG_START, held: false }) };

/** What a subscription queued (host/version of each event), read from its iterator until it would wait; then it is closed. */
async function queued(subscription: WatchSubscription): Promise<string[]> {
  const items = subscription[Symbol.asyncIterator]();
  const got: string[] = [];
  for (;;) {
    const next = await Promise.race([items.next(), new Promise<'waiting'>((resolve) => setImmediate(() => resolve('waiting')))]);
    if (next === 'waiting' || next.done) break;
    if (next.value.kind === 'event') got.push(`${next.value.event.hostId}/${next.value.event.version}`);
  }
  subscription.close();
  return got;
}

const hosts = ['a', 'b', 'c'];
const filterArb: fc.Arbitrary<FeedFilter> = fc.record(
  { hostId: fc.constantFrom(...hosts), fdId: fc.constantFrom('fd-1', 'fd-2'), type: fc.constantFrom('IoasidAllocated', 'FdClosed'), tenantId: fc.constantFrom('t1', 't2') },
  { requiredKeys: [] },
);
const eventArb = fc.record({ hostId: fc.constantFrom(...hosts), fdId: fc.constantFrom('fd-1', 'fd-2'), type: fc.constantFrom('IoasidAllocated', 'FdClosed'), tenantId: fc.constantFrom('t1', 't2') });

describe('the live watches of a feed', () => {
  it('queue in each watch exactly what offering every event to every watch would, whatever hosts, filters and leaves', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(filterArb, { minLength: 1, maxLength: 8 }), fc.array(eventArb, { maxLength: 40 }), fc.array(fc.nat(7), { maxLength: 4 }), async (filters, events, leaving) => {
        const live = new LiveWatches();
        const indexed = filters.map((f) => new WatchSubscription(hub, f, LOG_START));
        const everyEvent = filters.map((f) => new WatchSubscription(hub, f, LOG_START));
        for (const s of indexed) live.add(s);
        for (const i of leaving) if (i < indexed.length) live.delete(indexed[i]);
        events.forEach((e, i) => {
          const event = FeedEvent.of({ ...e, version: i + 1, data: { fdId: e.fdId } } as unknown as EventEnvelope, { tx: 1n, position: BigInt(i + 1) });
          live.offer(event);
          everyEvent.forEach((s, j) => {
            if (!leaving.includes(j)) s.offer(event);
          });
        });
        const all = await Promise.all(everyEvent.map(queued));
        for (let j = 0; j < filters.length; j++) assert.deepEqual(await queued(indexed[j]), all[j], `watch ${j} ${JSON.stringify(filters[j])}`);
      }),
      { numRuns: 300 },
    );
  });
});
