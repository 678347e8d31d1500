import { status, type ClientReadableStream, type ServiceError } from '@grpc/grpc-js';
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { errorCodeOf, IoasidClient } from '../grpc/grpc-client';
import { createFd, createTenant, expectStatus, pgliteBackend, postgresBackend, registerHost, startTestApp, TEST_OPERATOR_TOKEN, type TestApp, type TestBackend } from '../support/app';
import { SseStream } from '../support/sse-client';

const VF = '0000:3b:00.1';

/** Messages of a gRPC stream, pulled one at a time; the end is {error} or {done}. */
function pull<T>(stream: ClientReadableStream<T>): () => Promise<{ value?: T; error?: ServiceError; done?: boolean }> {
  const queue: Array<{ value?: T; error?: ServiceError; done?: boolean }> = [];
  let waiting: (() => void) | undefined;
  const push = (item: { value?: T; error?: ServiceError; done?: boolean }) => {
    queue.push(item);
    waiting?.();
  };
  stream.on('data', (value: T) => push({ value }));
  stream.on('error', (error: ServiceError) => push({ error }));
  stream.on('end', () => push({ done: true }));
  return async () => {
    while (!queue.length) await new Promise<void>((resolve) => (waiting = resolve));
    return queue.shift()!;
  };
}

for (const [name, backendOf] of [
  ['PostgreSQL', postgresBackend],
  ['the embedded PGlite', pgliteBackend],
] as const) {
  describe(`the watch over gRPC and SSE, and its end at shutdown, on ${name}`, () => {
    let backend: TestBackend;
    let app: TestApp;
    let hostId: string;

    before(async () => {
      backend = await backendOf();
      app = await startTestApp(backend.env);
      hostId = await registerHost(app.operator, { devices: [{ rid: VF, kind: 'vf' }] });
    });
    after(async () => {
      await app?.close();
      await backend?.dispose();
    });

    it('streams EventEnvelope {event, cursor} with the cursors of SSE, resumes after one, and refuses what REST refuses', async () => {
      const tenant = await createTenant(app.operator);
      const client = new IoasidClient(app.started.grpcUrl!, tenant.token);
      const sse = await SseStream.open(app.url, `/v1/events/watch?hostId=${hostId}`, tenant.token);
      const stream = client.stream('WatchEvents', { hostId });
      const next = pull<any>(stream);
      try {
        // Both watches are open (their start taken) once SSE answered and gRPC sent its headers.
        await new Promise<void>((resolve) => stream.once('metadata', () => resolve()));
        const fdId = await createFd(tenant.client, hostId);
        expectStatus(await tenant.client.put(`/v1/fds/${fdId}/hwid-mode`, { mode: 'local' }), 200);
        const first = (await next()).value;
        const second = (await next()).value;
        assert.equal(first.event.type, 'FdCreated');
        const sseFirst = (await sse.nextEvent())!;
        assert.equal(JSON.parse(sseFirst.data).data.fdId, fdId);
        assert.deepEqual(JSON.parse(first.event.dataJson), JSON.parse(sseFirst.data).data, 'the same event on both transports');
        assert.equal(first.cursor, sseFirst.id);
        const sseSecond = (await sse.nextEvent())!;
        assert.equal(second.cursor, sseSecond.id, 'one cursor for both transports');
        assert.equal(second.event.hash, JSON.parse(sseSecond.data).hash);

        const resumed = pull<any>(client.stream('WatchEvents', { after: first.cursor }));
        assert.equal((await resumed()).value.event.version, second.event.version, 'resumes right after the cursor');
        const invalid = await pull<any>(client.stream('WatchEvents', { after: 'bm9wZQ' }))();
        assert.equal(invalid.error?.code, status.INVALID_ARGUMENT);
        assert.equal(errorCodeOf(invalid.error!).code, 'VALIDATION_FAILED');
        const rival = new IoasidClient(app.started.grpcUrl!, (await createTenant(app.operator)).token);
        const hidden = await pull<any>(rival.stream('WatchEvents', { fdId }))();
        assert.equal(errorCodeOf(hidden.error!).code, 'NOT_FOUND');
        rival.close();
      } finally {
        stream.cancel();
        sse.close();
        client.close();
      }
    });

    it('ends open watches cleanly at shutdown: SSE gets an end event, gRPC UNAVAILABLE with the reason, and the servers drain', async () => {
      // The embedded database is one process's: the app to stop gets its own.
      const own = backend.env.DATABASE_URL ? undefined : await pgliteBackend();
      const other = await startTestApp(own?.env ?? backend.env);
      const client = new IoasidClient(other.started.grpcUrl!, TEST_OPERATOR_TOKEN);
      try {
        const sse = await SseStream.open(other.url, '/v1/events/watch', TEST_OPERATOR_TOKEN);
        const stream = client.stream('WatchEvents', {});
        const next = pull<any>(stream);
        await new Promise<void>((resolve) => stream.once('metadata', () => resolve()));
        await other.close();
        let message = await sse.next();
        while (message && 'comment' in message) message = await sse.next();
        assert.equal((message as { event?: string }).event, 'end');
        assert.equal(JSON.parse((message as { data: string }).data).reason, 'SHUTTING_DOWN');
        assert.equal(await sse.next(), undefined, 'then the stream ends');
        const ended = await next();
        assert.equal(ended.error?.code, status.UNAVAILABLE);
        assert.deepEqual(errorCodeOf(ended.error!).details, { reason: 'SHUTTING_DOWN' });
      } finally {
        client.close();
        await own?.dispose();
      }
    });
  });
}
