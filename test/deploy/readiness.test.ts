import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { isReady, MAX_READY_PROJECTION_LAG, type ReadinessFacts } from '../../src/projections/readiness.service';
import { healthStatus } from '../grpc/grpc-client';
import { expectStatus, readUntil, startTestApp, type TestApp } from '../support/app';
import { startKafkaMock, type KafkaMock } from '../support/kafka-mock';
import { freePort } from '../support/node-process';
import { createTestDatabase, type TestDatabase } from '../support/postgres';

const SERVICE = 'ioasid.v1.IoasidService';

describe('isReady', () => {
  const fine: ReadinessFacts = { database: true, schemaCurrent: true, shuttingDown: false, transportOk: true, projectionLag: 0 };

  it('an API or all-in-one process needs the database with the current schema, not Kafka nor the projection', () => {
    for (const role of ['api', 'all'] as const) {
      assert.equal(isReady(role, fine), true);
      assert.equal(isReady(role, { ...fine, transportOk: false, projectionLag: MAX_READY_PROJECTION_LAG + 1 }), true, `${role}: Kafka down`);
      assert.equal(isReady(role, { ...fine, database: false }), false);
      assert.equal(isReady(role, { ...fine, schemaCurrent: false }), false);
      assert.equal(isReady(role, { ...fine, shuttingDown: true }), false);
    }
  });

  it('a projector needs the database, the schema, Kafka and a bounded lag', () => {
    assert.equal(isReady('projector', fine), true);
    assert.equal(isReady('projector', { ...fine, transportOk: undefined }), true, 'no transport health to report (in-process)');
    assert.equal(isReady('projector', { ...fine, projectionLag: MAX_READY_PROJECTION_LAG }), true);
    assert.equal(isReady('projector', { ...fine, projectionLag: MAX_READY_PROJECTION_LAG + 1 }), false);
    assert.equal(isReady('projector', { ...fine, transportOk: false }), false);
    assert.equal(isReady('projector', { ...fine, database: false }), false);
    assert.equal(isReady('projector', { ...fine, schemaCurrent: false }), false);
  });
});

describe('readiness with Kafka unreachable', () => {
  let db: TestDatabase;
  let api: TestApp;
  let projector: TestApp;

  before(async () => {
    db = await createTestDatabase('ioasid_ready');
    // A port nothing listens on: every connection to "Kafka" is refused.
    const env = { DATABASE_URL: db.url, KAFKA_BROKERS: `127.0.0.1:${await freePort()}`, KAFKA_TOPIC: `t-${randomUUID()}`, LOG_LEVEL: 'fatal' };
    api = await startTestApp({ ...env, ROLE: 'api' });
    projector = await startTestApp({ ...env, ROLE: 'projector', RUN_MIGRATIONS: 'false' });
  });
  after(async () => {
    await projector?.close();
    await api?.close();
    await db?.drop();
  });

  it('ROLE=api stays ready and takes commands, reporting Kafka down in /readyz and /metrics', async () => {
    const ready = await readUntil(() => api.operator.get('/readyz'), (r) => r.body?.transport?.producer?.lastError !== undefined);
    expectStatus(ready, 200);
    assert.equal(ready.body.ready, true);
    assert.equal(ready.body.role, 'api');
    assert.equal(ready.body.migrations, 'current');
    assert.equal(ready.body.transport.ok, false, ready.text);
    assert.equal(ready.body.transport.producer.connected, false);
    assert.equal(ready.body.projectionLag, undefined, 'an API process does not project');

    expectStatus(await api.operator.post('/v1/tenants', { name: `t-${randomUUID()}` }), 201);
    const registered = await api.operator.post('/v1/hosts', { hostId: 'h-outage', pasidBits: 20, enqcmd: false, nestedPasidTable: false, devices: [] });
    expectStatus(registered, 201);
    // The event waits in the outbox until Kafka is back.
    const backlog = await readUntil(() => api.operator.get('/readyz'), (r) => r.body?.outboxPending >= 1);
    expectStatus(backlog, 200);
    assert.ok(backlog.body.outboxPending >= 1, backlog.text);

    const metrics = await api.operator.get('/metrics');
    assert.match(metrics.text, /^ioasid_transport_up 0$/m);
    assert.match(metrics.text, /^ioasid_outbox_pending_events [1-9]\d*$/m);
  });

  it('ROLE=api gRPC health says SERVING, overall and for the service; other names are NOT_FOUND', async () => {
    const grpcUrl = api.started.grpcUrl!;
    assert.equal(await healthStatus(grpcUrl, ''), 'SERVING');
    assert.equal(await healthStatus(grpcUrl, SERVICE), 'SERVING');
    await assert.rejects(healthStatus(grpcUrl, 'no.such.Service'), (e: { code?: number }) => e.code === 5);
  });

  it('ROLE=projector is not ready while its Kafka does not answer', async () => {
    const res = await readUntil(() => projector.operator.get('/readyz'), (r) => r.body?.transport?.consumer?.lastError !== undefined);
    assert.equal(res.status, 503, res.text);
    assert.equal(res.body.ready, false);
    assert.equal(res.body.role, 'projector');
    assert.equal(res.body.database, true);
    assert.equal(res.body.migrations, 'current');
    assert.equal(res.body.transport.ok, false);
    assert.equal(res.body.transport.consumer.joined, false);
    assert.equal(res.body.outboxPending, undefined, 'a projector does not publish');
    assert.match((await projector.operator.get('/metrics')).text, /^ioasid_transport_up 0$/m);
  });
});

describe('readiness of a projector with Kafka', () => {
  let db: TestDatabase;
  let mock: KafkaMock;
  let projector: TestApp;

  before(async () => {
    db = await createTestDatabase('ioasid_ready');
    mock = await startKafkaMock();
    projector = await startTestApp({ DATABASE_URL: db.url, KAFKA_BROKERS: mock.brokers.join(','), KAFKA_TOPIC: `t-${randomUUID()}`, KAFKA_GROUP_ID: `g-${randomUUID()}`, ROLE: 'projector' });
  });
  after(async () => {
    mock?.resume();
    await projector?.close();
    await mock?.stop();
    await db?.drop();
  });

  it('is ready in its group with a bounded lag, and not ready while Kafka is frozen', async () => {
    const ready = await readUntil(() => projector.operator.get('/readyz'), (r) => r.status === 200);
    expectStatus(ready, 200);
    assert.equal(ready.body.transport.consumer.joined, true);
    assert.equal(ready.body.projectionLag, 0);
    assert.match((await projector.operator.get('/metrics')).text, /^ioasid_projection_lag_events 0$/m);

    mock.pause();
    try {
      const frozen = await readUntil(() => projector.operator.get('/readyz'), (r) => r.status === 503, 2400);
      assert.equal(frozen.status, 503, frozen.text);
      assert.equal(frozen.body.transport.ok, false);
      assert.equal(frozen.body.transport.consumer.fetchStalled, true, frozen.text);
    } finally {
      mock.resume();
    }
    const back = await readUntil(() => projector.operator.get('/readyz'), (r) => r.status === 200, 2400);
    expectStatus(back, 200);
  });
});
