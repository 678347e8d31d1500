import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import { startKafkaMock, type KafkaMock } from '../support/kafka-mock';
import { runNode } from '../support/node-process';
import { createTestDatabase, type TestDatabase } from '../support/postgres';
import { assertHostsSettled, auditLog, loadFigures, readEventLog } from '../support/reliability-checks';
import { RetryingClient, summarize } from '../support/reliability-client';
import { seededRandom } from '../support/reliability-random';
import { RestartableServer } from '../support/reliability-server';
import { commandsPerVm, loadHosts, reliabilityScale, runVmScripts, setUpLoad } from '../support/reliability-workload';

const OPERATOR_TOKEN = `op-replicas-${randomUUID()}`;
const scale = reliabilityScale();
const CLIENTS = 16;
const HOSTS = 4;
const ROUNDS = 6 * scale;
/** How long Kafka stays frozen: longer than a fetch, a publish retry and a heartbeat, shorter than a session. */
const FREEZE_MS = 4000;

describe('replicas: two API processes and two projectors on one PostgreSQL and Kafka, under faults', () => {
  let db: TestDatabase;
  let mock: KafkaMock;
  const apis: RestartableServer[] = [];
  const projectors: RestartableServer[] = [];

  before(async () => {
    db = await createTestDatabase('ioasid_rel_replicas');
    mock = await startKafkaMock();
    const migrated = await runNode('dist/src/migrate.js', { DATABASE_URL: db.url });
    assert.equal(migrated.code, 0, migrated.stdout + migrated.stderr);
    const env = {
      DATABASE_URL: db.url,
      KAFKA_BROKERS: mock.brokers.join(','),
      KAFKA_TOPIC: `ioasid.events.${randomUUID()}`,
      KAFKA_GROUP_ID: `projectors-${randomUUID()}`,
      // A killed projector's partitions move after this; the default 30 s would idle the test.
      KAFKA_SESSION_TIMEOUT_MS: '6000',
      OPERATOR_TOKEN,
      RUN_MIGRATIONS: 'false',
      LOG_LEVEL: 'error',
    };
    for (let i = 0; i < 2; i++) {
      apis.push(await RestartableServer.create({ ...env, ROLE: 'api' }));
      projectors.push(await RestartableServer.create({ ...env, ROLE: 'projector' }));
    }
    await Promise.all([...apis, ...projectors].map((s) => s.start()));
  });
  after(async () => {
    mock?.resume();
    await Promise.all([...apis, ...projectors].map((s) => s.stop()));
    await mock?.stop();
    await db?.drop();
  });

  it('SIGKILL of each API and of a projector, and a Kafka freeze, under load: every acknowledged command exactly once, projections at the head', async () => {
    const random = seededRandom('replicas');
    // A client sticks to its API and goes to the other while its own is down (a Service would).
    const apiFor = (i: number) => () => (apis[i % 2].running ? apis[i % 2].url : apis[(i + 1) % 2].url);
    const operator = new RetryingClient(apiFor(0), OPERATOR_TOKEN);
    const hosts = loadHosts(`replicas-${random.seed}`, HOSTS, CLIENTS / HOSTS);
    const tenants = await setUpLoad(operator, hosts, 'replicas');

    const clients = Array.from({ length: CLIENTS }, (_, i) => new RetryingClient(apiFor(i), tenants[i % 2]));
    const expected = CLIENTS * commandsPerVm(ROUNDS);
    const acked = () => clients.reduce((n, c) => n + c.records.filter((r) => r.status >= 200 && r.status < 300).length, 0);
    const started = Date.now();
    let loadDone = false;
    const load = runVmScripts(clients, hosts, `replicas-${random.seed}`, ROUNDS).finally(() => (loadDone = true));

    // The faults, in order, each once the load reached its share of the acknowledged commands.
    // Only the kill waits: restarts and the thaw go on in the background while the load and the
    // next faults do, so the load is still running at every fault whatever the machine's speed.
    // An API is back before the other one is killed (so one always serves).
    let apiBack: Promise<void> = Promise.resolve();
    let projectorBack: Promise<void> = Promise.resolve();
    let kafkaBack: Promise<void> = Promise.resolve();
    const restartLater = (server: RestartableServer) => sleep(random.between(0, 500)).then(() => server.start());
    const faults: Array<{ at: number; name: string; before?: () => Promise<void>; inject: () => Promise<void> }> = [
      { at: 0.1, name: 'SIGKILL api-0', inject: async () => { await apis[0].kill(); apiBack = restartLater(apis[0]); } },
      { at: 0.3, name: 'SIGKILL projector-0', inject: async () => { await projectors[0].kill(); projectorBack = restartLater(projectors[0]); } },
      { at: 0.5, name: 'Kafka frozen', inject: async () => { mock.pause(); kafkaBack = sleep(FREEZE_MS).then(() => mock.resume()); } },
      { at: 0.7, name: 'SIGKILL api-1', before: () => apiBack, inject: async () => { await apis[1].kill(); apiBack = restartLater(apis[1]); } },
    ];
    const injected: Array<{ fault: string; acked: number; ms: number }> = [];
    for (const fault of faults) {
      while (!loadDone && acked() < expected * fault.at) await sleep(random.between(5, 40));
      await fault.before?.();
      const t0 = Date.now();
      const ackedThen = acked();
      await fault.inject();
      injected.push({ fault: fault.name, acked: ackedThen, ms: Date.now() - t0 });
    }
    const outcomes = await load;
    await Promise.all([apiBack, projectorBack, kafkaBack]);
    const loadMs = Date.now() - started;
    const failures = outcomes.filter((o) => o.status === 'rejected').map((o) => String((o as PromiseRejectedResult).reason));
    assert.deepEqual(failures, [], 'every VM script ran to its end');
    assert.ok(injected.every((f) => f.acked < expected), `every fault hit the load: ${JSON.stringify(injected)}`);

    const records = clients.flatMap((c) => c.records);
    const summary = summarize(records);
    const events = (await Promise.all(hosts.map((h) => readEventLog(apis[0].url, OPERATOR_TOKEN, h.hostId)))).flat();
    const audit = auditLog(records, events);
    assert.deepEqual(audit, { lost: [], duplicated: [], mismatched: [], partial: [], noOps: 0 });
    assert.equal(summary.failed.length, 0, 'every command was acknowledged in the end');
    assert.equal(records.length, expected);
    // Either API answers for every host: both read the same store and the same projection.
    for (const api of apis) await assertHostsSettled(api.url, OPERATOR_TOKEN, hosts.map((h) => h.hostId), events);
    const settledMs = Date.now() - started;

    // Ready again once any rebalance the faults started has settled (bounded by waitFor200).
    const readiness = await Promise.all([...apis, ...projectors].map((s) => s.ready()));
    assert.ok(readiness.every((r) => r.ready === true), JSON.stringify(readiness));

    console.log(
      `replicas figures: ${JSON.stringify({
        scale,
        apis: apis.length,
        projectors: projectors.length,
        clients: CLIENTS,
        hosts: HOSTS,
        ...loadFigures(records, events, audit),
        faults: injected,
        loadMs,
        settledMs,
      })}`,
    );
  });
});
