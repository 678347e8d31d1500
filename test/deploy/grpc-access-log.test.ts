import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  credentials,
  makeGenericClientConstructor,
  Metadata,
  Server,
  ServerCredentials,
  status,
  type Client,
  type ClientReadableStream,
  type ServiceDefinition,
  type ServiceError,
} from '@grpc/grpc-js';
import { JsonLogger } from '../../src/observability/logger';
import { withGrpcContext, withGrpcStreamContext } from '../../src/observability/grpc-access-log';
import { addToContext, requestContextOf } from '../../src/observability/request-context';

type EchoRequest = { tenant: string; fail?: boolean };
type TickRequest = { ticks: number; fail?: boolean; hang?: boolean };
const json = {
  serialize: (v: unknown) => Buffer.from(JSON.stringify(v)),
  deserialize: (b: Buffer) => JSON.parse(b.toString()),
};
const definition: ServiceDefinition = {
  Echo: {
    path: '/test.v1.Echo/Echo',
    requestStream: false,
    responseStream: false,
    requestSerialize: json.serialize,
    requestDeserialize: json.deserialize,
    responseSerialize: json.serialize,
    responseDeserialize: json.deserialize,
  },
  Ticks: {
    path: '/test.v1.Echo/Ticks',
    requestStream: false,
    responseStream: true,
    requestSerialize: json.serialize,
    requestDeserialize: json.deserialize,
    responseSerialize: json.serialize,
    responseDeserialize: json.deserialize,
  },
};

describe('gRPC access log and request context', () => {
  const lines: Array<Record<string, unknown>> = [];
  const logger = new JsonLogger({ out: { write: (l: string) => lines.push(JSON.parse(l)) } });
  const server = new Server();
  let client: Client & {
    Echo: (req: EchoRequest, md: Metadata, cb: (e: ServiceError | null, v?: unknown) => void) => void;
    Ticks: (req: TickRequest, md: Metadata) => ClientReadableStream<unknown>;
  };

  before(async () => {
    server.addService(definition, {
      Echo: withGrpcContext<EchoRequest, { ok: boolean }>(logger, (call, callback) => {
        setImmediate(() => {
          const context = requestContextOf(call.metadata);
          addToContext(context, { tenant: call.request.tenant, command: 'Echo' });
          logger.log({ msg: 'echoing', ...context }, 'Handler');
          if (call.request.fail) callback({ code: status.FAILED_PRECONDITION, details: 'PASID_IN_USE' });
          else callback(null, { ok: true });
        });
      }),
      Ticks: withGrpcStreamContext<TickRequest, { tick: number }>(logger, (call) => {
        for (let tick = 1; tick <= call.request.ticks; tick++) call.write({ tick });
        if (call.request.hang) return;
        if (call.request.fail) call.emit('error', { code: status.UNAVAILABLE, details: 'the watch ended' });
        else call.end();
      }),
    });
    const port = await new Promise<number>((resolve, reject) =>
      server.bindAsync('127.0.0.1:0', ServerCredentials.createInsecure(), (e, p) => (e ? reject(e) : resolve(p))),
    );
    const Echo = makeGenericClientConstructor(definition, 'Echo');
    client = new Echo(`127.0.0.1:${port}`, credentials.createInsecure()) as unknown as typeof client;
  });
  after(() => {
    client.close();
    server.forceShutdown();
  });

  function call(req: EchoRequest, correlationId?: string): Promise<ServiceError | null> {
    const md = new Metadata();
    if (correlationId) md.set('x-correlation-id', correlationId);
    return new Promise((resolve) => client.Echo(req, md, (e) => resolve(e)));
  }

  it('logs each call with method, code, ms and the context the handler filled in', async () => {
    assert.equal(await call({ tenant: 't-1' }, 'g-1'), null);
    const failure = await call({ tenant: 't-2', fail: true }, 'g-2');
    assert.equal(failure?.code, status.FAILED_PRECONDITION);

    const rpc = lines.filter((l) => l.msg === 'rpc');
    assert.deepEqual(
      rpc.map(({ method, code, correlationId, tenant, command, context }) => ({ method, code, correlationId, tenant, command, context })),
      [
        { method: '/test.v1.Echo/Echo', code: 'OK', correlationId: 'g-1', tenant: 't-1', command: 'Echo', context: 'grpc' },
        { method: '/test.v1.Echo/Echo', code: 'FAILED_PRECONDITION', correlationId: 'g-2', tenant: 't-2', command: 'Echo', context: 'grpc' },
      ],
    );
    assert.ok(rpc.every((l) => typeof l.ms === 'number'));
    const inside = lines.filter((l) => l.msg === 'echoing').map((l) => l.correlationId);
    assert.deepEqual(inside, ['g-1', 'g-2']);
  });

  it('keeps concurrent calls apart', async () => {
    const ids = Array.from({ length: 10 }, (_, i) => i);
    lines.length = 0;
    await Promise.all(ids.map((i) => call({ tenant: `t-${i}` }, `c-${i}`)));
    for (const line of lines.filter((l) => l.msg === 'rpc')) assert.equal(line.tenant, `t-${String(line.correlationId).slice(2)}`);
    assert.equal(lines.filter((l) => l.msg === 'rpc').length, ids.length);
  });

  it('logs a server stream once it ends: OK, the status it failed with, or CANCELLED, with the messages sent', async () => {
    lines.length = 0;
    const read = (req: TickRequest, correlationId: string, cancelAfter?: number) =>
      new Promise<number>((resolve) => {
        const md = new Metadata();
        md.set('x-correlation-id', correlationId);
        const stream = client.Ticks(req, md);
        let received = 0;
        stream.on('data', () => {
          if (++received === cancelAfter) stream.cancel();
        });
        stream.on('error', () => resolve(received));
        stream.on('end', () => resolve(received));
      });
    assert.equal(await read({ ticks: 3 }, 's-ok'), 3);
    assert.equal(await read({ ticks: 2, fail: true }, 's-fail'), 2);
    assert.equal(await read({ ticks: 1, hang: true }, 's-gone', 1), 1);
    for (let i = 0; i < 100 && lines.filter((l) => l.msg === 'rpc').length < 3; i++) await new Promise((r) => setTimeout(r, 10));
    const rpc = lines.filter((l) => l.msg === 'rpc').map(({ method, code, messages, correlationId }) => ({ method, code, messages, correlationId }));
    assert.deepEqual(
      rpc.sort((a, b) => String(a.correlationId).localeCompare(String(b.correlationId))),
      [
        { method: '/test.v1.Echo/Ticks', code: 'UNAVAILABLE', messages: 2, correlationId: 's-fail' },
        { method: '/test.v1.Echo/Ticks', code: 'CANCELLED', messages: 1, correlationId: 's-gone' },
        { method: '/test.v1.Echo/Ticks', code: 'OK', messages: 3, correlationId: 's-ok' },
      ],
    );
  });
});
