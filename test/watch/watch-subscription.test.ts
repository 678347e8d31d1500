import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MAX_QUEUED_EVENTS, WatchSubscription, type FeedHub, type WatchItem } from '../../src/application/watch/watch-subscription';
import type { EventEnvelope } from '../../src/model/envelope';
import { FeedEvent, type FeedPage } from '../../src/store/event-feed-reads';
import { decodeCursor, encodeCursor, type FeedCursor } from '../../src/store/watch-cursor';

/** A feed already at `head` with nothing to catch up: the subscription joins it at once. */
function hubAt(head: FeedCursor): FeedHub & { members: Set<WatchSubscription> } {
  const members = new Set<WatchSubscription>();
  return {
    members,
    head,
    started: async () => undefined,
    join: (s) => members.add(s),
    leave: (s) => members.delete(s),
    page: async (): Promise<FeedPage> => ({ events: [], highWater: head, held: false }),
  };
}

function envelope(hostId: string, version: number): EventEnvelope {
  return { hostId, version, type: 'IoasidAllocated', data: { fdId: 'fd-1', ioasid: version } } as unknown as EventEnvelope;
}

describe('a watch subscription', () => {
  it('ends a client that reads nothing once MAX_QUEUED_EVENTS wait, dropping them, instead of holding more', async () => {
    const hub = hubAt({ tx: 10n, position: 0n });
    const subscription = new WatchSubscription(hub, {}, { tx: 10n, position: 0n });
    const items = subscription[Symbol.asyncIterator]();
    const first = items.next();
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(hub.members.size, 1, 'joined the feed');
    hub.members.values().next().value!.offer(FeedEvent.of(envelope('h', 1), { tx: 10n, position: 1n }));
    assert.equal(((await first).value as WatchItem & { kind: 'event' }).event.version, 1);
    for (let i = 2; i <= MAX_QUEUED_EVENTS + 5; i++) subscription.offer(FeedEvent.of(envelope('h', i), { tx: 10n, position: BigInt(i) }));
    const next = await items.next();
    assert.equal(next.value.kind, 'end');
    assert.equal(next.value.reason, 'SLOW_READER');
    assert.equal((await items.next()).done, true);
    assert.equal(hub.members.size, 0, 'left the feed');
  });

  it('offers each event once, after its cursor, and only those passing the filter', async () => {
    const hub = hubAt({ tx: 5n, position: 0n });
    const subscription = new WatchSubscription(hub, { hostId: 'a', afterVersion: 1 }, { tx: 5n, position: 3n });
    const items = subscription[Symbol.asyncIterator]();
    const pending = items.next();
    await new Promise((resolve) => setImmediate(resolve));
    const offered = [
      FeedEvent.of(envelope('a', 2), { tx: 5n, position: 3n }),
      FeedEvent.of(envelope('b', 2), { tx: 5n, position: 4n }),
      FeedEvent.of(envelope('a', 1), { tx: 5n, position: 5n }),
      FeedEvent.of(envelope('a', 3), { tx: 6n, position: 1n }),
      FeedEvent.of(envelope('a', 3), { tx: 6n, position: 1n }),
    ];
    for (const event of offered) subscription.offer(event);
    const got = await pending;
    assert.equal((got.value as WatchItem & { kind: 'event' }).event.version, 3);
    assert.deepEqual(decodeCursor((got.value as WatchItem & { kind: 'event' }).cursor, 'after'), { tx: 6n, position: 1n });
    subscription.close();
    assert.equal((await items.next()).done, true);
  });

  it('refuses cursors it did not make', () => {
    assert.deepEqual(decodeCursor(encodeCursor({ tx: 123n, position: 456n }), 'after'), { tx: 123n, position: 456n });
    for (const bad of ['', 'bm9wZQ', Buffer.from('w1.1.2 ').toString('base64url'), Buffer.from('w1.-1.2').toString('base64url'), Buffer.from('w1.01.2').toString('base64url')]) {
      assert.throws(() => decodeCursor(bad, 'after'), (e: any) => e.code === 'VALIDATION_FAILED', bad);
    }
  });
});
