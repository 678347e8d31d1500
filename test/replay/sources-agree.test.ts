import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { EventEnvelope } from '../../src/model/envelope';
import { KafkaTransport } from '../../src/messaging/kafka/kafka-transport';
import type { EventSource } from '../../src/replay/event-source';
import { NdjsonFileSource } from '../../src/replay/file-source';
import { KafkaEventSource, SourceUnavailableError } from '../../src/replay/kafka-source';
import { PostgresReplay } from '../../src/replay/postgres-replay';
import { replayHost } from '../../src/replay/replay';
import { UnknownHostError } from '../../src/replay/replay-errors';
import { canonicalJson } from '../../src/model/canonical-json';
import { openDatabase, type Database } from '../../src/store/database';
import { EventStore } from '../../src/store/event-store';
import { startKafkaMock, type KafkaMock } from '../support/kafka-mock';
import { createTestDatabase, type TestDatabase } from '../support/postgres';
import { runScenario, ScenarioHost } from './scenario';

describe('event sources agree: PostgreSQL, NDJSON file, Kafka', () => {
  let testDb: TestDatabase;
  let db: Database;
  let mock: KafkaMock;
  let dir: string;
  let host: ScenarioHost;
  let sources: EventSource[];
  const topic = `replay-${randomUUID()}`;

  before(async () => {
    [testDb, mock, dir] = await Promise.all([createTestDatabase(), startKafkaMock(), mkdtemp(join(tmpdir(), 'ioasid-sources-'))]);
    db = await openDatabase({ databaseUrl: testDb.url, dataDir: dir });
    const store = new EventStore(db.dataSource);
    host = new ScenarioHost('host-s', store);
    const other = new ScenarioHost('host-t', store);
    await Promise.all([runScenario(host), runScenario(other)]);

    const file = join(dir, 'host-s.ndjson');
    await writeFile(file, host.envelopes.map((e) => canonicalJson(e)).join('\n') + '\n');

    const transport = new KafkaTransport({ brokers: mock.brokers, topic, mode: 'publish' });
    try {
      // Both hosts share the topic; host-s has a batch delivered twice (at least once delivery).
      await publishInBatches(transport, other.envelopes);
      await publishInBatches(transport, host.envelopes.slice(0, 20));
      await transport.publish(host.envelopes.slice(12, 20));
      await publishInBatches(transport, host.envelopes.slice(20));
    } finally {
      await transport.close();
    }
    sources = [
      new PostgresReplay(db.dataSource).source,
      new NdjsonFileSource(file),
      new KafkaEventSource({ brokers: mock.brokers, topic }),
    ];
  });
  after(async () => {
    await db?.close();
    await testDb?.drop();
    await mock?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('every source rebuilds the same hardware, now and at past versions', async () => {
    for (const version of [1, 9, 20, host.versions.length]) {
      const expected = host.versions[version - 1]!;
      for (const source of sources) {
        const outcome = await replayHost(source, host.hostId, { toVersion: version });
        assert.equal(outcome.problem, undefined, source.name);
        assert.deepEqual(outcome.hardware.view(), expected.view, `${source.name} at version ${version}`);
      }
    }
    for (const source of sources) {
      const outcome = await replayHost(source, host.hostId);
      assert.equal(outcome.head.hash, host.envelopes.at(-1)!.hash, `${source.name} reaches the head`);
      assert.equal(outcome.hardware.hash(), host.state.hw.hash());
    }
  });

  it('every source answers an unknown host the same way', async () => {
    for (const source of sources) await assert.rejects(replayHost(source, 'host-unknown'), UnknownHostError, source.name);
  });

  it('Kafka: a topic that does not exist holds no host; unreachable brokers are a clear error', async () => {
    await assert.rejects(replayHost(new KafkaEventSource({ brokers: mock.brokers, topic: `absent-${randomUUID()}` }), host.hostId), UnknownHostError);
    await assert.rejects(
      replayHost(new KafkaEventSource({ brokers: ['127.0.0.1:1'], topic, connectionTimeoutMs: 500 }), host.hostId),
      (e: unknown) => e instanceof SourceUnavailableError && /cannot reach Kafka at 127\.0\.0\.1:1/.test(e.message),
    );
  });
});

async function publishInBatches(transport: KafkaTransport, envelopes: EventEnvelope[]): Promise<void> {
  for (let i = 0; i < envelopes.length; i += 7) await transport.publish(envelopes.slice(i, i + 7));
}
