import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createFd, createTenant, expectError, expectStatus, registerHost, startTestApp, TEST_OPERATOR_TOKEN, unique, useTestApp, type ApiClient, type ApiResponse, type TestApp } from '../support/app';
import { SseStream } from '../support/sse-client';
import { seededRandom } from '../support/reliability-random';

const VF = '0000:3b:00.1';

/** Every event of the audit log of a host (all pages), as the caller sees them. */
async function auditLog(client: ApiClient, query: string): Promise<any[]> {
  const events: any[] = [];
  let token: string | undefined;
  do {
    const res = await client.get(`/v1/events?${query}&pageSize=1000${token ? `&pageToken=${token}` : ''}`);
    expectStatus(res, 200);
    events.push(...res.body.events);
    token = res.body.nextPageToken;
  } while (token);
  return events;
}

/** The next `count` events of a watch, parsed. */
async function take(stream: SseStream, count: number): Promise<Array<{ id: string; event: string; envelope: any }>> {
  const taken = [];
  while (taken.length < count) {
    const message = await stream.nextEvent();
    assert.ok(message, `the stream ended after ${taken.length} of ${count} events`);
    taken.push({ id: message.id!, event: message.event!, envelope: JSON.parse(message.data) });
  }
  return taken;
}

describe('the watch (SSE) on PostgreSQL', () => {
  const suite = useTestApp();
  let second: TestApp;

  before(async () => {
    second = await startTestApp(suite.backend.env);
  });
  after(async () => {
    await second?.close();
  });

  it('streams each committed event with its cursor, type and the envelope of GET /v1/events, from now on', async () => {
    const op = suite.app.operator;
    const hostId = await registerHost(op, { devices: [{ rid: VF, kind: 'vf' }] });
    const stream = await SseStream.open(suite.app.url, `/v1/events/watch?hostId=${hostId}`, TEST_OPERATOR_TOKEN, { 'x-correlation-id': 'watch-1' });
    try {
      assert.equal(stream.status, 200);
      assert.match(String(stream.res.headers['content-type']), /^text\/event-stream/);
      assert.equal(stream.res.headers['x-correlation-id'], 'watch-1', 'the stream answers the correlation id like every answer');
      assert.deepEqual(await stream.next(), { comment: 'watching' });
      const { client } = await createTenant(op);
      const fdId = await createFd(client, hostId);
      expectStatus(await client.put(`/v1/fds/${fdId}/hwid-mode`, { mode: 'local' }), 200);
      const seen = await take(stream, 2);
      const log = await auditLog(op, `hostId=${hostId}&afterVersion=1`);
      assert.deepEqual(seen.map((s) => s.envelope), log, 'data is the envelope exactly as the audit log gives it');
      assert.deepEqual(seen.map((s) => s.event), ['FdCreated', 'HwidModeSet']);
      assert.notEqual(seen[0].id, seen[1].id);
    } finally {
      stream.close();
    }
  });

  it('resumes after a cursor (Last-Event-ID or ?after=) with exactly the events after it, and after a host version', async () => {
    const op = suite.app.operator;
    const { client } = await createTenant(op);
    const hostId = await registerHost(op, { devices: [{ rid: VF, kind: 'vf' }] });
    const fdId = await createFd(client, hostId);
    for (let i = 0; i < 5; i++) expectStatus(await client.post(`/v1/fds/${fdId}/ioasids`), 201);
    const fromStart = await SseStream.open(suite.app.url, `/v1/events/watch?hostId=${hostId}&afterVersion=0`, TEST_OPERATOR_TOKEN);
    const all = await take(fromStart, 7);
    fromStart.close();
    assert.deepEqual(all.map((e) => e.envelope.version), [1, 2, 3, 4, 5, 6, 7]);

    const afterThree = await SseStream.open(second.url, `/v1/events/watch?hostId=${hostId}&afterVersion=3`, TEST_OPERATOR_TOKEN);
    assert.deepEqual((await take(afterThree, 4)).map((e) => e.envelope.version), [4, 5, 6, 7]);
    afterThree.close();

    let head = 7;
    for (const [i, headers, query] of [
      [2, { 'last-event-id': all[2].id }, ''],
      [4, {}, `&after=${all[4].id}`],
      // The cursor wins over afterVersion (an EventSource reconnects with its URL and Last-Event-ID).
      [5, { 'last-event-id': all[5].id }, '&afterVersion=1'],
    ] as const) {
      const resumed = await SseStream.open(second.url, `/v1/events/watch?hostId=${hostId}${query}`, TEST_OPERATOR_TOKEN, headers);
      const expected = Array.from({ length: head - (i + 1) }, (_, k) => i + 2 + k);
      assert.deepEqual((await take(resumed, expected.length)).map((e) => e.envelope.version), expected);
      expectStatus(await client.post(`/v1/fds/${fdId}/ioasids`), 201);
      head++;
      const [next] = await take(resumed, 1);
      assert.equal(next.envelope.version, head, 'then the new ones');
      resumed.close();
    }
  });

  it('refuses a bad cursor (400), afterVersion without hostId (400) and another tenant\'s fd (404); a tenant sees only its own', async () => {
    const op = suite.app.operator;
    const acme = await createTenant(op);
    const rival = await createTenant(op);
    const hostId = await registerHost(op, { devices: [{ rid: VF, kind: 'vf' }] });
    const acmeFd = await createFd(acme.client, hostId);
    for (const [path, headers] of [
      ['/v1/events/watch?after=bm9wZQ', {}],
      ['/v1/events/watch', { 'last-event-id': 'bm9wZQ' }],
      ['/v1/events/watch?afterVersion=3', {}],
      ['/v1/events/watch?pageSize=3', {}],
    ] as const) {
      const refused = await SseStream.open(suite.app.url, path, acme.token, headers);
      assert.equal(refused.status, 400, path);
      assert.equal(JSON.parse(await refused.text()).error.code, 'VALIDATION_FAILED');
    }
    const hidden = await SseStream.open(suite.app.url, `/v1/events/watch?fdId=${acmeFd}`, rival.token);
    assert.equal(hidden.status, 404);
    assert.equal(JSON.parse(await hidden.text()).error.code, 'NOT_FOUND');
    const missing = await op.get('/v1/events/watch?fdId=00000000-0000-4000-8000-000000000000');
    expectError(missing, 404, 'NOT_FOUND');

    const rivalWatch = await SseStream.open(suite.app.url, `/v1/events/watch?hostId=${hostId}`, rival.token);
    const acmeWatch = await SseStream.open(second.url, `/v1/events/watch?hostId=${hostId}`, acme.token);
    try {
      expectStatus(await acme.client.put(`/v1/fds/${acmeFd}/hwid-mode`, { mode: 'global' }), 200);
      const rivalFd = await createFd(rival.client, hostId);
      const [rivalSees] = await take(rivalWatch, 1);
      assert.equal(rivalSees.envelope.data.fdId, rivalFd, 'the rival sees its own fd, not acme\'s earlier change');
      const [acmeSees] = await take(acmeWatch, 1);
      assert.equal(acmeSees.event, 'HwidModeSet');
      const log = await auditLog(acme.client, `hostId=${hostId}&afterVersion=${acmeSees.envelope.version - 1}`);
      assert.deepEqual(acmeSees.envelope, log[0], 'a tenant\'s watch gives exactly what its audit log gives');
    } finally {
      rivalWatch.close();
      acmeWatch.close();
    }
  });

  it('delivers every event committed by concurrent writers on several hosts and two replicas, once each and in version order, across reconnects at random points', { timeout: 300_000 }, async () => {
    const apps = [suite.app, second];
    const { token } = await createTenant(apps[0].operator);
    const hosts: string[] = [];
    for (let i = 0; i < 4; i++) hosts.push(await registerHost(apps[i % 2].operator, { devices: [{ rid: VF, kind: 'vf' }] }));

    // Writers: on every host, one fd per replica, allocating and freeing ioasids through that replica.
    const writers = apps.map((app) => async (hostId: string) => {
      const client = app.operator.as(token);
      // Two replicas writing one host conflict; a write that still loses after its retries (409 VERSION_CONFLICT) committed nothing.
      const settled = (res: ApiResponse, status: number) => res.status === status || (res.status === 409 && res.body.error.code === 'VERSION_CONFLICT');
      let created: ApiResponse;
      do created = await client.post('/v1/fds', { hostId, vmId: unique('vm') });
      while (created.status !== 201 && settled(created, 201));
      expectStatus(created, 201);
      const fdId: string = created.body.fdId;
      for (let i = 0; i < 15; i++) {
        const alloc = await client.post(`/v1/fds/${fdId}/ioasids`);
        assert.ok(settled(alloc, 201), alloc.text);
        if (alloc.status === 201 && i % 3 === 2) {
          const freed = await client.delete(`/v1/fds/${fdId}/ioasids/${alloc.body.ioasid}`);
          assert.ok(settled(freed, 204), freed.text);
        }
      }
    });

    const random = seededRandom('watch-reconnects');
    const received: any[] = [];
    let cursor: string | undefined;
    let reconnects = 0;
    let expected: Map<string, number> | undefined;
    const done = (): boolean => {
      if (!expected) return false;
      const seen = new Map<string, number>();
      for (const e of received) seen.set(e.hostId, Math.max(seen.get(e.hostId) ?? 0, e.version));
      return [...expected].every(([hostId, head]) => (seen.get(hostId) ?? 0) >= head);
    };
    // Opened before any writer starts, from now on: every writer's event is after its start.
    let stream = await SseStream.open(apps[0].url, '/v1/events/watch', TEST_OPERATOR_TOKEN);
    assert.equal(stream.status, 200);
    const watcher = (async () => {
      for (;;) {
        const quota = random.between(1, 40);
        for (let n = 0; n < quota && !done(); n++) {
          const message = await stream.nextEvent();
          if (!message) break;
          received.push(JSON.parse(message.data));
          cursor = message.id;
        }
        stream.close();
        if (done()) return;
        reconnects++;
        stream = await SseStream.open(apps[random.between(0, 1)].url, '/v1/events/watch', TEST_OPERATOR_TOKEN, cursor ? { 'last-event-id': cursor } : {});
        assert.equal(stream.status, 200);
      }
    })();
    const writing = hosts.flatMap((hostId) => writers.map((write) => write(hostId)));
    await Promise.all(writing);
    expected = new Map(await Promise.all(hosts.map(async (hostId) => [hostId, (await apps[0].operator.get(`/v1/hosts/${hostId}`)).body.version] as [string, number])));
    // A watcher that already has everything is waiting for more: its stream is closed to let it see so.
    if (done()) stream.close();
    await watcher;

    const ours = received.filter((e) => hosts.includes(e.hostId));
    const keys = ours.map((e) => `${e.hostId}#${e.version}`);
    assert.equal(new Set(keys).size, keys.length, 'no event twice');
    for (const hostId of hosts) {
      // A registration may show too: committed before the watch began, it can sit above an older transaction still running.
      const versions = ours.filter((e) => e.hostId === hostId && e.version > 1).map((e) => e.version);
      assert.deepEqual(versions, Array.from({ length: expected.get(hostId)! - 1 }, (_, i) => i + 2), `host ${hostId}: every event after the registration, in version order`);
      const log = await auditLog(apps[1].operator, `hostId=${hostId}&afterVersion=1`);
      assert.deepEqual(ours.filter((e) => e.hostId === hostId && e.version > 1), log, `host ${hostId}: exactly the committed envelopes`);
    }
    assert.ok(reconnects > 0, 'the watcher reconnected');
  });
});
