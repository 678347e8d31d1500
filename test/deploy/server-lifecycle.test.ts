import assert from 'node:assert/strict';
import { Agent, request } from 'node:http';
import { after, before, describe, it } from 'node:test';
import { Client } from 'pg';
import { createTestDatabase, type TestDatabase } from '../support/postgres';
import { findObject, loadManifests } from '../support/deploy-files';
import { lines } from '../support/node-process';
import { httpRequest, type HttpAnswer } from '../support/http-request';
import { startServer, waitFor200, waitUntilRefused, type ServerProcess } from '../support/server-process';

const OPERATOR_TOKEN = `op_deploy_${Date.now().toString(36)}_operator_secret`;
const HOST = 'host-deploy-1';
const WORKERS = 8;

/** Outcome of one create under load: the fd it made, or why the client got nothing. */
type Outcome = { fdId: string } | { status: number; body: string } | { error: string };

function probePaths(): string[] {
  const api = findObject(loadManifests(), 'Deployment', 'ioasid-manager-api');
  const [c] = api.spec.template.spec.containers;
  return [...new Set<string>([c.startupProbe.httpGet.path, c.livenessProbe.httpGet.path, c.readinessProbe.httpGet.path])];
}

function auth(token: string): Record<string, string> {
  return { authorization: `Bearer ${token}` };
}

/** A POST whose headers and first body bytes are sent now and the rest when `finish` is called. */
function openPost(url: string, body: unknown, headers: Record<string, string>, agent: Agent) {
  const payload = Buffer.from(JSON.stringify(body));
  let answered!: Promise<HttpAnswer>;
  const req = request(url, {
    method: 'POST',
    agent,
    headers: { 'content-type': 'application/json', 'content-length': payload.length, ...headers },
  });
  answered = new Promise((resolve, reject) => {
    req.on('response', (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (text += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: text }));
    });
    req.on('error', reject);
  });
  req.write(payload.subarray(0, 5));
  return { answered, finish: () => req.end(payload.subarray(5)) };
}

async function allEvents(server: ServerProcess, hostId: string): Promise<Array<{ type: string; data: { fdId?: string } }>> {
  const events: Array<{ type: string; data: { fdId?: string } }> = [];
  let pageToken: string | undefined;
  do {
    const query = new URLSearchParams({ hostId, pageSize: '100', ...(pageToken ? { pageToken } : {}) });
    const page = await httpRequest(`${server.url}/v1/events?${query}`, { headers: auth(OPERATOR_TOKEN) });
    assert.equal(page.status, 200, page.body);
    const parsed = JSON.parse(page.body) as { events: typeof events; nextPageToken?: string };
    events.push(...parsed.events);
    pageToken = parsed.nextPageToken || undefined;
  } while (pageToken);
  return events;
}

describe('the server process: boot, load, SIGTERM, restart', { timeout: 180_000 }, () => {
  let db: TestDatabase;
  let server: ServerProcess;
  before(async () => {
    db = await createTestDatabase('ioasid_lifecycle');
  });
  after(async () => {
    if (server && server.child.exitCode === null && server.child.signalCode === null) {
      server.child.kill('SIGKILL');
      await server.exited;
    }
    await db.drop();
  });

  const env = () => ({ DATABASE_URL: db.url, OPERATOR_TOKEN, ROLE: 'all', LOG_LEVEL: 'info' });
  let tenantToken = '';
  const outcomes: Outcome[] = [];
  let drainedAnswer: HttpAnswer | undefined;

  it('boots and answers the probe paths of the manifests', async () => {
    server = await startServer(env());
    for (const path of probePaths()) await waitFor200(server, path);
  });

  it('serves commands and exposes their latency histogram on /metrics', async () => {
    const tenant = await httpRequest(`${server.url}/v1/tenants`, { method: 'POST', headers: auth(OPERATOR_TOKEN), body: { name: 'deploy-test' } });
    assert.equal(tenant.status, 201, tenant.body);
    tenantToken = JSON.parse(tenant.body).token;
    const host = await httpRequest(`${server.url}/v1/hosts`, {
      method: 'POST',
      headers: auth(OPERATOR_TOKEN),
      body: { hostId: HOST, pasidBits: 20, enqcmd: true, nestedPasidTable: false, devices: [{ rid: '0000:3b:00.1', kind: 'vf', pasidBits: 20 }] },
    });
    assert.equal(host.status, 201, host.body);
    const fd = await httpRequest(`${server.url}/v1/fds`, {
      method: 'POST',
      headers: { ...auth(tenantToken), 'x-correlation-id': 'deploy-corr-1' },
      body: { hostId: HOST, vmId: 'vm-warmup' },
    });
    assert.equal(fd.status, 201, fd.body);
    outcomes.push({ fdId: JSON.parse(fd.body).fdId });

    const metrics = await httpRequest(`${server.url}/metrics`);
    assert.equal(metrics.status, 200);
    const buckets = metrics.body.split('\n').filter((l) => l.startsWith('ioasid_command_duration_seconds_bucket{'));
    assert.ok(buckets.length > 0, 'histogram buckets are exposed');
    assert.ok(buckets.some((l) => / [1-9]\d*$/.test(l)), 'some bucket counted the commands');
  });

  it('on SIGTERM mid-load: stops accepting, finishes in-flight requests and exits 0', async (t) => {
    const agent = new Agent({ keepAlive: true, maxSockets: WORKERS });
    const held = new Agent({ keepAlive: true, maxSockets: 1 });
    let sent = 0;
    // Each worker sends creates until the server refuses connections (its listener is closed).
    const worker = async (w: number): Promise<void> => {
      for (;;) {
        const vmId = `vm-${w}-${sent++}`;
        try {
          const answer = await httpRequest(`${server.url}/v1/fds`, { method: 'POST', agent, headers: auth(tenantToken), body: { hostId: HOST, vmId } });
          outcomes.push(answer.status === 201 ? { fdId: JSON.parse(answer.body).fdId } : { status: answer.status, body: answer.body });
        } catch (e) {
          // Refused or reset: the request never reached a handler; the client would retry elsewhere.
          outcomes.push({ error: (e as NodeJS.ErrnoException).code ?? String(e) });
          if ((e as NodeJS.ErrnoException).code === 'ECONNREFUSED') return;
        }
      }
    };
    try {
      // A connection the server has accepted, then a request on it that is still sending its body.
      assert.equal((await httpRequest(`${server.url}/healthz`, { agent: held })).status, 200);
      const inFlight = openPost(`${server.url}/v1/fds`, { hostId: HOST, vmId: 'vm-in-flight' }, auth(tenantToken), held);

      const load = Promise.all(Array.from({ length: WORKERS }, (_, w) => worker(w)));
      while (outcomes.length < 30) await new Promise((r) => setTimeout(r, 5));
      server.child.kill('SIGTERM');
      await waitUntilRefused(server);
      inFlight.finish();
      drainedAnswer = await inFlight.answered;
      await load;
    } finally {
      agent.destroy();
      held.destroy();
    }
    const exit = await server.exited;
    assert.deepEqual(exit, { code: 0, signal: null }, server.stdout() + server.stderr());
    assert.ok(drainedAnswer);
    assert.equal(drainedAnswer.status, 201, `the in-flight request completes: ${drainedAnswer.body}`);
    outcomes.push({ fdId: JSON.parse(drainedAnswer.body).fdId });
    const errors = outcomes.flatMap((o) => ('error' in o ? [o.error] : []));
    t.diagnostic(`answered 201: ${outcomes.filter((o) => 'fdId' in o).length}; not accepted: ${errors.length} (${[...new Set(errors)].join(', ')})`);
    const failed = outcomes.filter((o) => 'status' in o);
    assert.deepEqual(failed, [], 'no request is answered with an error while draining');

    // The relay published what the drained requests committed before the process let go.
    const client = new Client({ connectionString: db.url });
    await client.connect();
    try {
      const { rows } = await client.query('SELECT count(*)::int AS pending FROM outbox');
      assert.equal(rows[0].pending, 0);
    } finally {
      await client.end();
    }
  });

  it('wrote one JSON object per line, with access lines, and never a token', () => {
    const out = lines(server.stdout());
    const parsed = out.map((l) => {
      try {
        return JSON.parse(l) as Record<string, unknown>;
      } catch {
        throw new Error(`not a JSON log line: ${l}`);
      }
    });
    const access = parsed.find((l) => l.msg === 'request' && l.correlationId === 'deploy-corr-1');
    assert.ok(access, 'the request with x-correlation-id has an access line');
    assert.equal(access.method, 'POST');
    assert.equal(access.path, '/v1/fds');
    assert.equal(access.status, 201);
    assert.equal(access.host, HOST, 'the command handler put the host in the context');
    assert.equal(access.command, 'CreateFd');
    assert.equal(typeof access.tenant, 'string');
    const all = server.stdout() + server.stderr();
    assert.ok(!all.includes(OPERATOR_TOKEN), 'the operator token is never logged');
    assert.ok(!all.includes(tenantToken), 'tenant tokens are never logged');
  });

  it('every create answered 2xx is in the event log after a restart', async () => {
    server = await startServer(env());
    await waitFor200(server, '/readyz');
    const created = new Set((await allEvents(server, HOST)).filter((e) => e.type === 'FdCreated').map((e) => e.data.fdId));
    const acknowledged = outcomes.filter((o): o is { fdId: string } => 'fdId' in o).map((o) => o.fdId);
    assert.ok(acknowledged.length > 20);
    for (const fdId of acknowledged) assert.ok(created.has(fdId), `fd ${fdId} was answered 201 but is not in the event log`);
    server.child.kill('SIGTERM');
    assert.deepEqual(await server.exited, { code: 0, signal: null });
  });
});
