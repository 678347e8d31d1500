import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import type { KafkaTransportOptions } from '../../src/messaging/kafka/kafka-options';
import { KafkaTransport } from '../../src/messaging/kafka/kafka-transport';
import { DeliveryLog, waitUntil } from '../support/kafka-delivery-log';
import { hostEventChain } from '../support/kafka-envelopes';
import { startKafkaMock, type KafkaMock } from '../support/kafka-mock';

const HOSTS = Array.from({ length: 16 }, (_, i) => `rack2-host${i}`);

describe('Kafka consumer group: the hosts of revoked partitions', () => {
  let mock: KafkaMock;
  const open: KafkaTransport[] = [];

  before(async () => {
    mock = await startKafkaMock();
  });
  after(async () => {
    for (const t of open.reverse()) await t.close();
    await mock.stop();
  });

  it('after a rebalance, tells the first instance which hosts still come to it: exactly those whose events it still gets', async () => {
    const topic = `events-${randomUUID()}`;
    const base: Omit<KafkaTransportOptions, 'mode'> = {
      brokers: mock.brokers,
      topic,
      groupId: `projectors-${randomUUID()}`,
      heartbeatIntervalMs: 300,
      sessionTimeoutMs: 10_000,
    };
    const publisher = new KafkaTransport({ ...base, mode: 'publish' });
    const first = new KafkaTransport({ ...base, mode: 'consume' });
    const second = new KafkaTransport({ ...base, mode: 'consume' });
    open.push(publisher, first, second);

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

    const after = log.calls.slice(mark);
    const hostsOf = (consumer: string) => new Set(after.filter((c) => c.consumer === consumer).flatMap((c) => c.events.map((e) => e.hostId)));
    const toFirst = hostsOf('first');
    const toSecond = hostsOf('second');
    assert.ok(toFirst.size > 0 && toSecond.size > 0, `both instances got hosts: ${toFirst.size} / ${toSecond.size}`);
    for (const h of toFirst) assert.equal(owned!(h), true, `${h} still comes to the first instance`);
    for (const h of toSecond) assert.equal(owned!(h), false, `${h} now goes to the second instance`);
  });
});
