import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import { TEST_OPERATOR_TOKEN, startTestApp, type TestApp } from '../support/app';
import { httpRequest } from '../support/http-request';
import { ADMIN_URL, createTestDatabase, type TestDatabase } from '../support/postgres';
import { auditLog, getJson, pasidLedger, readEventLog, settledHost } from '../support/reliability-checks';
import { RetryingClient, summarize } from '../support/reliability-client';
import { FaultyLink, type LinkState } from '../support/reliability-proxy';
import { hostBody, loadHosts, reliabilityScale, runVmScript } from '../support/reliability-workload';

const scale = reliabilityScale();
const CLIENTS = 8;
const OUTAGE_MS = 2_000 * scale;
/**
 * Bound on one request while the database is away. Not a latency figure: only a request that
 * has not answered by then counts as hanging. A query gives up after QUERY_TIMEOUT_MS (10 s); a
 * host command may wait for its host's lock behind a few others that each do, hence the margin.
 */
const HANG_BOUND_MS = 60_000;

interface Probe {
  kind: string;
  status: number | 'hang' | 'connection error';
  code?: string;
  ms: number;
}

/** One request with a bound: a hang is a result, not a stuck test. */
async function probe(kind: string, url: string, method: string, path: string, body?: unknown, key?: string, token = TEST_OPERATOR_TOKEN): Promise<Probe> {
  const started = Date.now();
  const answer = httpRequest(`${url}${path}`, {
    method,
    body,
    agent: false,
    headers: { authorization: `Bearer ${token}`, ...(key ? { 'idempotency-key': key } : {}) },
  }).then(
    (res) => ({ kind, status: res.status, code: (JSON.parse(res.body || '{}') as { error?: { code?: string } }).error?.code, ms: Date.now() - started }),
    () => ({ kind, status: 'connection error' as const, ms: Date.now() - started }),
  );
  let timer: NodeJS.Timeout | undefined;
  const hang = new Promise<Probe>((resolve) => (timer = setTimeout(() => resolve({ kind, status: 'hang', ms: HANG_BOUND_MS }), HANG_BOUND_MS)));
  const result = await Promise.race([answer, hang]);
  clearTimeout(timer);
  return result;
}

describe('store outage: PostgreSQL unreachable mid-load, behind a TCP proxy', () => {
  let db: TestDatabase;
  let link: FaultyLink;
  let app: TestApp;
  const figures: Record<string, unknown> = {};

  before(async () => {
    db = await createTestDatabase('ioasid_rel_outage');
    const pg = new URL(ADMIN_URL);
    link = await FaultyLink.start({ host: pg.hostname, port: Number(pg.port || 5432) });
    const viaProxy = new URL(db.url);
    viaProxy.host = `127.0.0.1:${link.port}`;
    app = await startTestApp({ DATABASE_URL: viaProxy.toString() });
  });
  after(async () => {
    link?.set('open');
    await app?.close();
    await link?.close();
    await db?.drop();
    console.log(`store outage figures: ${JSON.stringify({ scale, clients: CLIENTS, outageMs: OUTAGE_MS, ...figures })}`);
  });

  for (const mode of ['refuse', 'blackhole'] as LinkState[]) {
    it(`answers 503 UNAVAILABLE within a bound while the link is "${mode}", and recovers by itself`, async () => {
      const url = app.url;
      const operator = new RetryingClient(() => url, TEST_OPERATOR_TOKEN);
      const hosts = loadHosts(`outage-${mode}`, 2, CLIENTS / 2);
      for (const h of hosts) assert.equal((await operator.command('POST', '/v1/hosts', `host-${h.hostId}`, hostBody(h))).status, 201);
      const tenant = await operator.command('POST', '/v1/tenants', `tenant-${mode}`, { name: `outage-${mode}` });
      assert.equal(tenant.status, 201);

      // A patient load that keeps going through the outage, retrying 503s with the same keys.
      const clients = Array.from({ length: CLIENTS }, () => new RetryingClient(() => url, tenant.answer.token));
      const load = Promise.allSettled(
        clients.map((client, i) =>
          runVmScript({ client, host: hosts[i % 2], vf: hosts[i % 2].vfs[Math.floor(i / 2)], vmId: `vm-${i}`, keyPrefix: `outage-${mode}-vm${i}`, rounds: 6 * scale }),
        ),
      );
      while (clients.reduce((n, c) => n + c.records.length, 0) < CLIENTS * 4) await sleep(20);

      link.set(mode);
      const cutAt = Date.now();
      const probes: Probe[] = [];
      let n = 0;
      while (Date.now() - cutAt < OUTAGE_MS) {
        n++;
        probes.push(
          ...(await Promise.all([
            probe('read host', url, 'GET', `/v1/hosts/${hosts[0].hostId}`),
            probe('create tenant', url, 'POST', '/v1/tenants', { name: `probe-${mode}-${n}` }, `probe-${mode}-${n}`),
            probe('read events', url, 'GET', `/v1/events?hostId=${hosts[0].hostId}&pageSize=1`),
            // A host command: it waits for the host's lock behind the load's commands.
            probe('host command', url, 'POST', '/v1/fds', { hostId: hosts[0].hostId, vmId: `probe-${n}` }, `probe-fd-${mode}-${n}`, tenant.answer.token),
          ])),
        );
      }
      const readyDuringOutage = await probe('readiness', url, 'GET', '/readyz');
      link.set('open');

      const outcomes = await load;
      assert.deepEqual(outcomes.filter((o) => o.status === 'rejected').map((o) => String((o as PromiseRejectedResult).reason)), []);
      const unexpected = probes.filter((p) => !(p.status === 503 && p.code === 'UNAVAILABLE'));
      assert.deepEqual(unexpected, [], 'every request during the outage answered 503 UNAVAILABLE, none hung');
      assert.equal(readyDuringOutage.status, 503, '/readyz reports the outage');
      const ready = await getJson(url, TEST_OPERATOR_TOKEN, '/readyz');
      assert.equal(ready.database, true, 'the service is ready again without a restart');

      const records = clients.flatMap((c) => c.records);
      const summary = summarize(records);
      assert.equal(summary.failed.length, 0, 'every command was acknowledged in the end');
      assert.ok(summary.retriedAfter503 > 0, 'the load felt the outage');
      const events = (await Promise.all(hosts.map((h) => readEventLog(url, TEST_OPERATOR_TOKEN, h.hostId)))).flat();
      const audit = auditLog(records, events);
      assert.deepEqual(audit, { lost: [], duplicated: [], mismatched: [], partial: [], noOps: 0 });
      for (const h of hosts) {
        assert.deepEqual(pasidLedger(events.filter((e) => e.hostId === h.hostId)).doubleAllocated, []);
        const { verify, hardware } = await settledHost(url, TEST_OPERATOR_TOKEN, h.hostId);
        assert.equal(verify.ok, true, `${h.hostId}: ${JSON.stringify(verify)}`);
        assert.equal(hardware.hash, verify.hash, `${h.hostId}: the projection caught up after the outage`);
      }
      figures[mode] = {
        commands: summary.commands,
        attempts: summary.attempts,
        retriedAfter503: summary.retriedAfter503,
        probes: probes.length,
        slowestProbeMs: Object.fromEntries([...new Set(probes.map((p) => p.kind))].map((k) => [k, Math.max(...probes.filter((p) => p.kind === k).map((p) => p.ms))])),
        lost: audit.lost.length,
        duplicated: audit.duplicated.length,
      };
    });
  }
});
