import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import { createTestDatabase, type TestDatabase } from '../support/postgres';
import { assertHostsSettled, auditLog, getJson, loadFigures, readEventLog } from '../support/reliability-checks';
import { RetryingClient, summarize } from '../support/reliability-client';
import { seededRandom } from '../support/reliability-random';
import { RestartableServer } from '../support/reliability-server';
import { commandsPerVm, loadHosts, reliabilityScale, runVmScripts, setUpLoad } from '../support/reliability-workload';

const OPERATOR_TOKEN = `op-crash-${randomUUID()}`;
const scale = reliabilityScale();
const CLIENTS = 32;
const HOSTS = 4;
const KILLS = 5 * scale;
const ROUNDS = 4 * scale;

describe('crash: the all-in-one server SIGKILLed under load on PostgreSQL', () => {
  let db: TestDatabase;
  let server: RestartableServer;

  before(async () => {
    db = await createTestDatabase('ioasid_rel_crash');
    server = await RestartableServer.create({ DATABASE_URL: db.url, OPERATOR_TOKEN, LOG_LEVEL: 'warn' });
    await server.start();
  });
  after(async () => {
    await server?.stop();
    await db?.drop();
  });

  it(`acknowledged commands survive ${KILLS} kills exactly once, with the answers clients saw`, async () => {
    const random = seededRandom('crash');
    const url = () => server.url;
    const operator = new RetryingClient(url, OPERATOR_TOKEN);
    const hosts = loadHosts(`crash-${random.seed}`, HOSTS, CLIENTS / HOSTS);
    const tenants = await setUpLoad(operator, hosts, 'crash');

    const clients = Array.from({ length: CLIENTS }, (_, i) => new RetryingClient(url, tenants[i % 2]));
    const expected = CLIENTS * commandsPerVm(ROUNDS);
    const acked = () => clients.reduce((n, c) => n + c.records.filter((r) => r.status >= 200 && r.status < 300).length, 0);
    const started = Date.now();
    const load = runVmScripts(clients, hosts, `crash-${random.seed}`, ROUNDS);

    // Kills spread over the load: the k-th when about k/(KILLS+1) of the commands are acknowledged, jittered.
    const killedAt: Array<{ acked: number; projectionLag?: number; outboxPending?: number }> = [];
    let loadDone = false;
    void load.then(() => (loadDone = true));
    for (let k = 1; k <= KILLS && !loadDone; k++) {
      const target = Math.floor((expected * k) / (KILLS + 1));
      while (!loadDone && acked() < target) await sleep(random.between(5, 40));
      const ready = await getJson(server.url, OPERATOR_TOKEN, '/readyz').catch(() => undefined);
      killedAt.push({ acked: acked(), projectionLag: ready?.projectionLag, outboxPending: ready?.outboxPending });
      await server.kill();
      await sleep(random.between(0, 300));
      await server.start();
    }
    const outcomes = await load;
    const durationMs = Date.now() - started;
    const failures = outcomes.filter((o) => o.status === 'rejected').map((o) => String((o as PromiseRejectedResult).reason));
    assert.deepEqual(failures, [], 'every VM script ran to its end');

    const records = clients.flatMap((c) => c.records);
    const summary = summarize(records);
    const events = (await Promise.all(hosts.map((h) => readEventLog(server.url, OPERATOR_TOKEN, h.hostId)))).flat();
    const audit = auditLog(records, events);
    assert.deepEqual(audit, { lost: [], duplicated: [], mismatched: [], partial: [], noOps: 0 });
    assert.equal(summary.failed.length, 0, 'every command was acknowledged in the end');
    assert.equal(records.length, expected);

    await assertHostsSettled(server.url, OPERATOR_TOKEN, hosts.map((h) => h.hostId), events);

    console.log(
      `crash figures: ${JSON.stringify({
        scale,
        clients: CLIENTS,
        hosts: HOSTS,
        ...loadFigures(records, events, audit),
        kills: server.kills,
        killedAt,
        durationMs,
      })}`,
    );
  });
});
