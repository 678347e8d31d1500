import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import type { EventEnvelope } from '../../src/model/envelope';
import { KafkaTransport } from '../../src/messaging/kafka/kafka-transport';
import type { KafkaTransportOptions } from '../../src/messaging/kafka/kafka-options';
import { DeliveryLog, waitUntil } from '../support/kafka-delivery-log';
import { hostEventChain, inBatches } from '../support/kafka-envelopes';
import { MOCK_TOPIC_PARTITIONS, startKafkaMock, type KafkaMock } from '../support/kafka-mock';

const HOSTS = Array.from({ length: 12 }, (_, i) => `rack1-host${i}`);
const PER_HOST = 90;

describe('Kafka consumer group: projector instances sharing the partitions', () => {
  let mock: KafkaMock;
  const open: KafkaTransport[] = [];

  before(async () => {
    mock = await startKafkaMock();
  });
  after(async () => {
    for (const t of open.reverse()) await t.close();
    await mock.stop();
  });

  /** A publisher and two consumers of one group, on a topic of their own. */
  function group(extra: Partial<KafkaTransportOptions>): { publisher: KafkaTransport; first: KafkaTransport; second: KafkaTransport } {
    const base: Omit<KafkaTransportOptions, 'mode'> = {
      brokers: mock.brokers,
      topic: `events-${randomUUID()}`,
      groupId: `projectors-${randomUUID()}`,
      heartbeatIntervalMs: 300,
      sessionTimeoutMs: 10_000,
      ...extra,
    };
    const transports = { publisher: new KafkaTransport({ ...base, mode: 'publish' }), first: new KafkaTransport({ ...base, mode: 'consume' }), second: new KafkaTransport({ ...base, mode: 'consume' }) };
    open.push(transports.publisher, transports.first, transports.second);
    return transports;
  }

  it('a second instance takes over partitions from committed offsets, and the last one takes over all when the first leaves', async () => {
    const { publisher, first, second } = group({ maxEventsPerDelivery: 7 });

    const log = new DeliveryLog();
    // A little work per delivery, so that rebalances happen while batches are in flight.
    const slow = (handler: (e: EventEnvelope[]) => Promise<void>) => async (events: EventEnvelope[]) => {
      await sleep(2);
      await handler(events);
    };
    const batches = HOSTS.map((h) => inBatches(hostEventChain(h, PER_HOST), 3));
    const third = batches[0].length / 3;
    const publishPart = (part: number) =>
      Promise.all(
        batches.map(async (hostBatches) => {
          for (const batch of hostBatches.slice(part * third, (part + 1) * third)) {
            await publisher.publish(batch);
            await sleep(5);
          }
        }),
      );
    const distinctAfter = (part: number) => HOSTS.length * (PER_HOST / 3) * (part + 1);

    await first.subscribe(slow(log.handler('first')));
    await publishPart(0);
    await waitUntil(() => log.distinctCount() === distinctAfter(0), 'the first instance to handle the first part');

    await second.subscribe(slow(log.handler('second')));
    await publishPart(1);
    await waitUntil(() => (second.health().consumer?.assignedPartitions.length ?? 0) > 0, 'the second instance to get partitions');
    await waitUntil(() => log.distinctCount() === distinctAfter(1), 'both instances to handle the second part');
    const shared = { first: first.health().consumer!.assignedPartitions, second: second.health().consumer!.assignedPartitions };

    const publishing = publishPart(2);
    await first.close();
    await publishing;
    await waitUntil(() => log.distinctCount() === distinctAfter(2), 'the second instance to handle the rest');

    log.assertComplete(new Map(HOSTS.map((h) => [h, PER_HOST])));
    log.assertPerHostOrder();
    assert.ok(shared.first.length > 0 && shared.second.length > 0, `both instances held partitions: ${JSON.stringify(shared)}`);
    // Every partition of the topic: the two instances' assignments sampled above may fall inside a rebalance.
    assert.deepEqual(
      second.health().consumer!.assignedPartitions,
      Array.from({ length: MOCK_TOPIC_PARTITIONS }, (_, p) => p),
      'the second instance holds every partition once the first left',
    );
    const handledBy = (name: string) => new Set(log.calls.filter((c) => c.consumer === name).flatMap((c) => c.events.map((e) => e.hostId)));
    assert.ok(handledBy('second').size === HOSTS.length, 'the second instance handled every host in the end');
    assert.ok(log.deliveredCount() >= HOSTS.length * PER_HOST);
  });

  it('after a rebalance, tells the first instance which hosts still come to it: exactly those whose events it still gets', async () => {
    const { publisher, first, second } = group({});

    const log = new DeliveryLog();
    let owned: ((hostId: string) => boolean) | undefined;
    first.onPartitionsRevoked((o) => (owned = o));
    const chains = new Map(HOSTS.map((h) => [h, hostEventChain(h, 2)]));

    await first.subscribe(log.handler('first'));
    for (const h of HOSTS) await publisher.publish([chains.get(h)![0]!]);
    await waitUntil(() => log.distinctCount() === HOSTS.length, 'the first instance to handle every host');
    assert.equal(owned, undefined, 'no partition was taken away yet');

    await second.subscribe(log.handler('second'));
    await waitUntil(() => owned !== undefined && (second.health().consumer?.assignedPartitions.length ?? 0) > 0, 'the rebalance to revoke partitions of the first');
    const mark = log.calls.length;
    for (const h of HOSTS) await publisher.publish([chains.get(h)![1]!]);
    await waitUntil(() => log.distinctCount() === HOSTS.length * 2, 'both instances to handle the second events');

    const later = log.calls.slice(mark);
    const hostsOf = (consumer: string) => new Set(later.filter((c) => c.consumer === consumer).flatMap((c) => c.events.map((e) => e.hostId)));
    const toFirst = hostsOf('first');
    const toSecond = hostsOf('second');
    assert.ok(toFirst.size > 0 && toSecond.size > 0, `both instances got hosts: ${toFirst.size} / ${toSecond.size}`);
    for (const h of toFirst) assert.equal(owned!(h), true, `${h} still comes to the first instance`);
    for (const h of toSecond) assert.equal(owned!(h), false, `${h} now goes to the second instance`);
  });
});
