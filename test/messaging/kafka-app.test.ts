import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { Kafka, logLevel } from 'kafkajs';
import { createFd, createTenant, expectStatus, readUntil, registerHost, startTestApp, type ApiClient, type TestApp } from '../support/app';
import { startKafkaMock, type KafkaMock } from '../support/kafka-mock';
import { waitUntil } from '../support/kafka-delivery-log';
import { createTestDatabase, type TestDatabase } from '../support/postgres';

const VFS = ['0000:3b:00.1', '0000:3b:00.2', '0000:3b:00.3'];
const SIOV = '0000:5e:00.0';

/** A host's worth of commands: three VMs in local mode programming PASIDs, one of them closed again. */
async function exerciseHost(operator: ApiClient, tenant: ApiClient, hostId: string): Promise<void> {
  await registerHost(operator, { hostId, nestedPasidTable: false, devices: [...VFS.map((rid) => ({ rid, kind: 'vf' as const })), { rid: SIOV, kind: 'siov' }] });
  const fds: string[] = [];
  for (const [i, rid] of VFS.entries()) {
    const fd = `/v1/fds/${await createFd(tenant, hostId)}`;
    fds.push(fd);
    expectStatus(await tenant.put(`${fd}/hwid-mode`, { mode: 'local' }), 200);
    expectStatus(await tenant.post(`${fd}/ioasids`), 201);
    expectStatus(await tenant.post(`${fd}/ioasids/1/attachments`, { rid }), 201);
    expectStatus(await tenant.put(`${fd}/ioasids/1/hwid`, { pasid: 10 + i }), 200);
    expectStatus(await tenant.put(`${fd}/ioasids/1/pgtable`, { gpa: `0x${(0x200000 * (i + 1)).toString(16)}` }), 200);
  }
  expectStatus(await tenant.post(`${fds[0]}/ioasids/1/attachments`, { rid: SIOV }), 201);
  expectStatus(await tenant.delete(fds[2]), 204);
}

describe('the service with KAFKA_BROKERS: API and projector processes joined by Kafka', () => {
  let mock: KafkaMock;
  let db: TestDatabase;
  let projector: TestApp;
  let api: TestApp;
  const topic = `ioasid.events.${randomUUID()}`;

  before(async () => {
    mock = await startKafkaMock();
    db = await createTestDatabase('ioasid_kafka');
    const env = { DATABASE_URL: db.url, KAFKA_BROKERS: mock.brokers.join(','), KAFKA_TOPIC: topic, KAFKA_GROUP_ID: `projectors-${randomUUID()}` };
    // The projector starts first and so finds nothing to catch up from the store: what it projects came through Kafka.
    projector = await startTestApp({ ...env, ROLE: 'projector' });
    api = await startTestApp({ ...env, ROLE: 'api' });
  });
  after(async () => {
    await api?.close();
    await projector?.close();
    await db?.drop();
    await mock?.stop();
  });

  it('projects commands on several hosts to the hardware that a full replay from the store gives', async () => {
    const op = api.operator;
    const tenant = await createTenant(op);
    const hosts = ['kafka-host-1', 'kafka-host-2', 'kafka-host-3', 'kafka-host-4'];
    await Promise.all(hosts.map((h) => exerciseHost(op, tenant.client, h)));

    const heads = new Map<string, number>();
    for (const hostId of hosts) {
      const verify = await op.get(`/v1/hosts/${hostId}/verify`);
      expectStatus(verify, 200);
      const head = verify.body.version;
      heads.set(hostId, head);
      const hardware = await readUntil(() => op.get(`/v1/hosts/${hostId}/hardware`), (r) => r.body?.version === head, 1200);
      assert.equal(hardware.body.version, head, `${hostId}: the projection reached the head`);
      const replay = await op.get(`/v1/hosts/${hostId}/verify`);
      assert.equal(replay.body.ok, true, `${hostId}: ${replay.body.reason}`);
      assert.equal(hardware.body.hash, replay.body.hash, `${hostId}: projected hash = replayed hash`);
      assert.ok(Object.keys(hardware.body.rids[VFS[0]].pasids).length > 0, `${hostId}: PASIDs programmed`);
    }

    // The topic holds every event, as an outside consumer sees it.
    const perHost = new Map<string, number[]>();
    const reader = new Kafka({ clientId: 'audit-reader', brokers: mock.brokers, logLevel: logLevel.NOTHING }).consumer({ groupId: `audit-${randomUUID()}` });
    try {
      await reader.connect();
      await reader.subscribe({ topics: [topic], fromBeginning: true });
      await reader.run({
        eachMessage: async ({ message }) => {
          const { hostId, version } = JSON.parse(message.value!.toString());
          perHost.set(hostId, [...(perHost.get(hostId) ?? []), version]);
        },
      });
      const total = [...heads.values()].reduce((a, b) => a + b, 0);
      await waitUntil(() => [...perHost.values()].reduce((n, v) => n + v.length, 0) >= total, 'every event on the topic');
    } finally {
      await reader.disconnect();
    }
    for (const [hostId, head] of heads) {
      assert.deepEqual(perHost.get(hostId), Array.from({ length: head }, (_, i) => i + 1), `${hostId}: versions 1..${head} in order on the topic`);
    }
  });

  it('reports Kafka in /readyz: the API process publishing, the projector process in its group', async () => {
    const apiReady = await readUntil(() => api.operator.get('/readyz'), (r) => r.status === 200);
    expectStatus(apiReady, 200);
    assert.equal(apiReady.body.transport.ok, true);
    assert.equal(apiReady.body.transport.producer.connected, true);
    assert.equal(apiReady.body.transport.consumer, undefined, 'ROLE=api does not consume');
    assert.equal(apiReady.body.outboxPending, 0);

    const projectorReady = await readUntil(() => projector.operator.get('/readyz'), (r) => r.status === 200);
    expectStatus(projectorReady, 200);
    assert.equal(projectorReady.body.transport.consumer.joined, true);
    assert.equal(projectorReady.body.transport.producer, undefined, 'ROLE=projector does not publish');
  });
});
