import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { createServer } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import type { EventEnvelope } from '../../src/model/envelope';
import { KafkaUnavailableError } from '../../src/messaging/kafka/kafka-publisher';
import { KafkaTransport } from '../../src/messaging/kafka/kafka-transport';
import { DeliveryLog, waitUntil } from '../support/kafka-delivery-log';
import { hostEventChain, inBatches } from '../support/kafka-envelopes';
import { startKafkaMock, type KafkaMock } from '../support/kafka-mock';

/** A loopback port that nothing listens on: connections to it are refused. */
async function refusingPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as { port: number };
  await new Promise((r) => server.close(r));
  return port;
}

/**
 * What the outbox relay does with a host's pending events: publish the oldest batch, and on
 * failure keep it and try again later. Publishes are counted so the test can show the
 * outage was felt.
 */
async function relayUntilPublished(transport: KafkaTransport, batches: EventEnvelope[][], counts: { published: number; failed: number }, stop: AbortSignal): Promise<void> {
  for (const batch of batches) {
    for (;;) {
      if (stop.aborted) return;
      try {
        await transport.publish(batch);
        counts.published++;
        break;
      } catch {
        counts.failed++;
        await sleep(200);
      }
    }
    await sleep(20);
  }
}

describe('Kafka outage', () => {
  let mock: KafkaMock;
  const open: KafkaTransport[] = [];
  const stopRelays = new AbortController();

  before(async () => {
    mock = await startKafkaMock();
  });
  after(async () => {
    stopRelays.abort();
    mock.resume();
    for (const t of open.reverse()) await t.close();
    await mock.stop();
  });

  it('a cluster that freezes for a while and comes back loses no event, and the consumer resumes', async () => {
    const topic = `events-${randomUUID()}`;
    const options = { brokers: mock.brokers, topic, groupId: `g-${randomUUID()}`, requestTimeoutMs: 1_500, heartbeatIntervalMs: 500, backoff: { initialMs: 100, maxMs: 1_000 } };
    const publisher = new KafkaTransport({ ...options, mode: 'publish' });
    const consumer = new KafkaTransport({ ...options, mode: 'consume' });
    open.push(publisher, consumer);
    const log = new DeliveryLog();
    await consumer.subscribe(log.handler('projector'));

    const hosts = ['h1', 'h2', 'h3', 'h4'];
    const perHost = 300;
    const batchesPerHost = perHost / 2;
    const counts = { published: 0, failed: 0 };
    const relaying = Promise.all(hosts.map((h) => relayUntilPublished(publisher, inBatches(hostEventChain(h, perHost), 2), counts, stopRelays.signal)));

    await waitUntil(() => log.distinctCount() > 0 && counts.published >= batchesPerHost, 'events flowing before the outage');
    mock.pause();
    const publishedBefore = counts.published;
    await waitUntil(() => publisher.health().ok === false, 'the producer to report the outage');
    await waitUntil(() => counts.failed > 0, 'a publish to fail and be kept for retry');
    mock.resume();

    await relaying;
    await waitUntil(() => log.distinctCount() === hosts.length * perHost, 'every event after the outage');
    log.assertComplete(new Map(hosts.map((h) => [h, perHost])));
    log.assertPerHostOrder();
    assert.ok(publishedBefore < hosts.length * batchesPerHost, 'the outage happened while events were still to be published');
    assert.equal(publisher.health().ok, true, 'the producer is healthy again');
  });

  it('starts, reports not ready and refuses publishes while no broker is reachable, without crashing', async () => {
    const port = await refusingPort();
    const transport = new KafkaTransport({
      brokers: [`127.0.0.1:${port}`],
      topic: 'events',
      mode: 'both',
      connectionTimeoutMs: 500,
      backoff: { initialMs: 50, maxMs: 200 },
    });
    open.push(transport);
    let handled = 0;
    await transport.subscribe(async (events) => {
      handled += events.length;
    });

    await assert.rejects(transport.publish(hostEventChain('h', 2)), KafkaUnavailableError);
    const health = transport.health();
    assert.equal(health.ok, false);
    assert.equal(health.producer?.connected, false);
    assert.match(health.producer?.lastError?.message ?? '', /ECONNREFUSED|Connection|connect/i);
    await waitUntil(() => transport.health().consumer?.lastError !== undefined, 'the consumer to report the unreachable cluster');
    assert.equal(transport.health().consumer?.joined, false);
    assert.equal(handled, 0);
  });
});
