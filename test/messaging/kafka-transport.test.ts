import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { Kafka, logLevel, type IHeaders } from 'kafkajs';
import type { EventEnvelope } from '../../src/model/envelope';
import { KafkaTransport } from '../../src/messaging/kafka/kafka-transport';
import { DeliveryLog, waitUntil } from '../support/kafka-delivery-log';
import { hostEventChain, inBatches } from '../support/kafka-envelopes';
import { startKafkaMock, type KafkaMock } from '../support/kafka-mock';

const HOSTS = ['host-a', 'host-b', 'host-c', 'host-d', 'host-e'];
const PER_HOST = 60;

function header(headers: IHeaders | undefined, name: string): string | undefined {
  const raw = headers?.[name];
  return (Array.isArray(raw) ? raw[0] : raw)?.toString();
}

/** Publishes each host's chain in relay-sized batches, hosts interleaved, one batch at a time per host. */
async function publishAll(transport: KafkaTransport, chains: EventEnvelope[][], batchSize: number): Promise<void> {
  await Promise.all(
    chains.map(async (chain) => {
      for (const batch of inBatches(chain, batchSize)) await transport.publish(batch);
    }),
  );
}

describe('KafkaTransport', () => {
  let mock: KafkaMock;
  const open: Array<{ close(): Promise<void> }> = [];

  before(async () => {
    mock = await startKafkaMock();
  });
  after(async () => {
    for (const o of open.reverse()) await o.close();
    await mock.stop();
  });

  it('publishes events that an outside kafkajs consumer reads complete, keyed by host, with headers and in per-host order', async () => {
    const topic = `events-${randomUUID()}`;
    const transport = new KafkaTransport({ brokers: mock.brokers, topic, mode: 'publish' });
    open.push(transport);
    const chains = HOSTS.map((h) => hostEventChain(h, PER_HOST));
    await publishAll(transport, chains, 7);

    const received: Array<{ partition: number; key?: string; type?: string; schemaVersion?: string; envelope: EventEnvelope }> = [];
    const consumer = new Kafka({ clientId: 'outside-reader', brokers: mock.brokers, logLevel: logLevel.NOTHING }).consumer({
      groupId: `reader-${randomUUID()}`,
    });
    open.push({ close: () => consumer.disconnect() });
    await consumer.connect();
    await consumer.subscribe({ topics: [topic], fromBeginning: true });
    await consumer.run({
      eachMessage: async ({ partition, message }) => {
        received.push({
          partition,
          key: message.key?.toString(),
          type: header(message.headers, 'type'),
          schemaVersion: header(message.headers, 'schema-version'),
          envelope: JSON.parse(message.value!.toString()),
        });
      },
    });
    await waitUntil(() => received.length >= HOSTS.length * PER_HOST, 'every published event');

    assert.equal(received.length, HOSTS.length * PER_HOST, 'each event exactly once when nothing failed');
    for (const [i, host] of HOSTS.entries()) {
      const mine = received.filter((r) => r.envelope.hostId === host);
      assert.deepEqual(mine.map((r) => r.envelope), chains[i], `${host}: the same envelopes, in version order`);
      assert.ok(mine.every((r) => r.key === host), `${host}: key = hostId`);
      assert.equal(new Set(mine.map((r) => r.partition)).size, 1, `${host}: one partition`);
      assert.ok(mine.every((r) => r.type === r.envelope.type && r.schemaVersion === String(r.envelope.schemaVersion)), `${host}: headers`);
    }
    assert.ok(new Set(received.map((r) => r.partition)).size > 1, 'hosts spread over several partitions');
  });

  it('delivers to a subscriber in per-host order and reports a healthy producer and consumer', async () => {
    const topic = `events-${randomUUID()}`;
    const transport = new KafkaTransport({ brokers: mock.brokers, topic, mode: 'both', groupId: `g-${randomUUID()}` });
    open.push(transport);
    const log = new DeliveryLog();
    await transport.subscribe(log.handler('only'));
    const chains = HOSTS.map((h) => hostEventChain(h, PER_HOST));
    await publishAll(transport, chains, 10);
    await waitUntil(() => log.distinctCount() === HOSTS.length * PER_HOST, 'every event at the subscriber');

    log.assertComplete(new Map(HOSTS.map((h) => [h, PER_HOST])));
    log.assertPerHostOrder();
    const health = transport.health();
    assert.equal(health.ok, true);
    assert.equal(health.producer?.connected, true);
    assert.ok(health.producer?.lastPublishAt);
    assert.equal(health.consumer?.joined, true);
    assert.ok((health.consumer?.assignedPartitions.length ?? 0) > 0);
  });

  it('retries a failing handler without skipping or reordering the events it failed on', async () => {
    const topic = `events-${randomUUID()}`;
    const transport = new KafkaTransport({ brokers: mock.brokers, topic, mode: 'both', groupId: `g-${randomUUID()}`, backoff: { initialMs: 20, maxMs: 100 } });
    open.push(transport);
    const log = new DeliveryLog();
    const record = log.handler('flaky');
    let calls = 0;
    await transport.subscribe(async (events) => {
      // Every third call fails, as a projector whose database blips would.
      if (++calls % 3 === 0) throw new Error('projection store unavailable');
      await record(events);
    });
    const chains = HOSTS.slice(0, 2).map((h) => hostEventChain(h, 40));
    await publishAll(transport, chains, 1);
    await waitUntil(() => log.distinctCount() === 80, 'every event despite failures');
    log.assertComplete(new Map(HOSTS.slice(0, 2).map((h) => [h, 40])));
    log.assertPerHostOrder();
    assert.ok(calls > log.calls.length, 'the handler did fail and was retried');
  });

  it('refuses the half that its mode leaves out', async () => {
    const publishOnly = new KafkaTransport({ brokers: mock.brokers, topic: 'unused', mode: 'publish' });
    const consumeOnly = new KafkaTransport({ brokers: mock.brokers, topic: 'unused', mode: 'consume' });
    open.push(publishOnly, consumeOnly);
    await assert.rejects(publishOnly.subscribe(async () => undefined), /only publishes/);
    await assert.rejects(consumeOnly.publish(hostEventChain('h', 1)), /only consumes/);
    assert.equal(publishOnly.health().consumer, undefined);
    assert.equal(consumeOnly.health().producer, undefined);
  });
});
