import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import { createTestDatabase, type TestDatabase } from '../support/postgres';
import { auditLog, getJson, pasidLedger, readEventLog, settledHost } from '../support/reliability-checks';
import { RetryingClient, summarize } from '../support/reliability-client';
import { seededRandom } from '../support/reliability-random';
import { RestartableServer } from '../support/reliability-server';
import { hostBody, loadHosts, reliabilityScale, runVmScript } from '../support/reliability-workload';

const OPERATOR_TOKEN = `op-crash-${randomUUID()}`;
const scale = reliabilityScale();
const CLIENTS = 32;
const HOSTS = 4;
const KILLS = 5 * scale;
const ROUNDS = 4 * scale;

/** How many commands one VM script sends (runVmScript), replayed on its release queue. */
function commandsPerVm(rounds: number): number {
  let n = 3;
  const live: boolean[] = [];
  for (let round = 1; round <= rounds; round++) {
    const withMdev = round % 2 === 0;
    n += 5 + (withMdev ? 1 : 0);
    live.push(withMdev);
    if (round % 3 === 0) n += 2 + (live.shift() ? 1 : 0);
  }
  return n;
}

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
    for (const h of hosts) assert.equal((await operator.command('POST', '/v1/hosts', `host-${h.hostId}`, hostBody(h))).status, 201);
    const tenants: string[] = [];
    for (const name of ['crash-tenant-a', 'crash-tenant-b']) {
      const created = await operator.command('POST', '/v1/tenants', `tenant-${name}`, { name });
      assert.equal(created.status, 201);
      tenants.push(created.answer.token as string);
    }

    const clients = Array.from({ length: CLIENTS }, (_, i) => new RetryingClient(url, tenants[i % 2]));
    const expected = CLIENTS * commandsPerVm(ROUNDS);
    const acked = () => clients.reduce((n, c) => n + c.records.filter((r) => r.status >= 200 && r.status < 300).length, 0);
    const started = Date.now();
    const load = Promise.allSettled(
      clients.map((client, i) =>
        runVmScript({
          client,
          host: hosts[i % HOSTS],
          vf: hosts[i % HOSTS].vfs[Math.floor(i / HOSTS)],
          vmId: `vm-${i}`,
          keyPrefix: `crash-${random.seed}-vm${i}`,
          rounds: ROUNDS,
        }),
      ),
    );

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

    for (const h of hosts) {
      const ledger = pasidLedger(events.filter((e) => e.hostId === h.hostId));
      assert.deepEqual(ledger.doubleAllocated, [], `${h.hostId}: no PASID held twice`);
      assert.deepEqual(ledger.strayReleases, [], `${h.hostId}: releases name held PASIDs`);
      assert.deepEqual(ledger.gaps, [], `${h.hostId}: versions without gaps`);
      const { verify, hardware } = await settledHost(server.url, OPERATOR_TOKEN, h.hostId);
      assert.equal(verify.ok, true, `${h.hostId}: verify ${JSON.stringify(verify)}`);
      assert.equal(hardware.version, verify.version, `${h.hostId}: the projection caught up after the kills`);
      assert.equal(hardware.hash, verify.hash, `${h.hostId}: projected hash = replayed hash`);
      assert.equal(hardware.allocator.used, ledger.held.size, `${h.hostId}: the allocator holds what the log says`);
      const fds = await getJson(server.url, OPERATOR_TOKEN, `/v1/fds?hostId=${h.hostId}`);
      const globals = fds.fds.flatMap((fd: any) => fd.ioasids.map((io: any) => io.globalPasid).filter((p: unknown) => p !== undefined));
      assert.equal(new Set(globals).size, globals.length, `${h.hostId}: live global PASIDs are distinct`);
      assert.deepEqual([...globals].sort(), [...ledger.held].sort(), `${h.hostId}: live fds hold exactly the allocated PASIDs`);
    }

    console.log(
      `crash figures: ${JSON.stringify({
        scale,
        clients: CLIENTS,
        hosts: HOSTS,
        commands: summary.commands,
        attempts: summary.attempts,
        retriedAfterConnectionError: summary.retriedAfterConnectionError,
        retriedAfter503: summary.retriedAfter503,
        events: events.length,
        kills: server.kills,
        killedAt,
        durationMs,
        lost: audit.lost.length,
        duplicated: audit.duplicated.length,
      })}`,
    );
  });
});
