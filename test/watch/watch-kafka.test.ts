import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { createFd, createTenant, registerHost, startTestApp, TEST_OPERATOR_TOKEN, type TestApp } from '../support/app';
import { startKafkaMock, type KafkaMock } from '../support/kafka-mock';
import { createTestDatabase, type TestDatabase } from '../support/postgres';
import { SseStream } from '../support/sse-client';

/** With KAFKA_BROKERS the watch still reads the store: an API replica watches what another commits. */
describe('the watch with Kafka: API replicas and a projector joined by Kafka', () => {
  let mock: KafkaMock;
  let db: TestDatabase;
  let apis: TestApp[] = [];
  let projector: TestApp;

  before(async () => {
    mock = await startKafkaMock();
    db = await createTestDatabase('ioasid_watch_kafka');
    const env = { DATABASE_URL: db.url, KAFKA_BROKERS: mock.brokers.join(','), KAFKA_TOPIC: `ioasid.events.${randomUUID()}`, KAFKA_GROUP_ID: `projectors-${randomUUID()}` };
    projector = await startTestApp({ ...env, ROLE: 'projector' });
    apis = [await startTestApp({ ...env, ROLE: 'api' }), await startTestApp({ ...env, ROLE: 'api' })];
  });
  after(async () => {
    for (const app of apis) await app.close();
    await projector?.close();
    await db?.drop();
    await mock?.stop();
  });

  it('delivers on one replica the events another replica commits, in order, and resumes on the other', async () => {
    const hostId = await registerHost(apis[0].operator, { devices: [{ rid: '0000:3b:00.1', kind: 'vf' }] });
    const watch = await SseStream.open(apis[1].url, `/v1/events/watch?hostId=${hostId}&afterVersion=0`, TEST_OPERATOR_TOKEN);
    const { client } = await createTenant(apis[0].operator);
    const fdId = await createFd(client, hostId);
    for (let i = 0; i < 3; i++) await client.post(`/v1/fds/${fdId}/ioasids`);
    const seen: Array<{ id: string; version: number }> = [];
    while (seen.length < 5) {
      const message = await watch.nextEvent();
      assert.ok(message, 'the watch goes on');
      seen.push({ id: message.id!, version: JSON.parse(message.data).version });
    }
    watch.close();
    assert.deepEqual(seen.map((s) => s.version), [1, 2, 3, 4, 5]);
    const resumed = await SseStream.open(apis[0].url, `/v1/events/watch?hostId=${hostId}`, TEST_OPERATOR_TOKEN, { 'last-event-id': seen[1].id });
    const again = [];
    while (again.length < 3) again.push(JSON.parse((await resumed.nextEvent())!.data).version);
    resumed.close();
    assert.deepEqual(again, [3, 4, 5]);
  });
});
