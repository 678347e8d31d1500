import * as grpc from '@grpc/grpc-js';
import { loadSync } from '@grpc/proto-loader';
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import fc from 'fast-check';
import { Client } from 'pg';
import { ioasidProtoPath } from '../../src/api/grpc/proto-path';
import { OPERATIONS } from '../../src/api/operations/operation-table';
import { createFd, createTenant, expectStatus, postgresBackend, registerHost, startTestApp, TEST_OPERATOR_TOKEN, type TestApp, type TestBackend } from '../support/app';
import { writtenRows } from '../support/reliability-hostile';
import { hostileMessage, type FieldInfo } from '../support/reliability-protobuf';
import { reliabilityScale } from '../support/reliability-workload';

const RUNS_PER_METHOD = 40 * reliabilityScale();
const SERVICE = 'ioasid.v1.IoasidService';

/** Statuses a refused request may carry (API.md "Errors", gRPC column); never UNKNOWN, INTERNAL or UNAVAILABLE with the store up. */
const ALLOWED = new Set([
  grpc.status.OK,
  grpc.status.INVALID_ARGUMENT,
  grpc.status.UNAUTHENTICATED,
  grpc.status.PERMISSION_DENIED,
  grpc.status.NOT_FOUND,
  grpc.status.ALREADY_EXISTS,
  grpc.status.FAILED_PRECONDITION,
  grpc.status.OUT_OF_RANGE,
  grpc.status.RESOURCE_EXHAUSTED,
]);

interface Method {
  name: string;
  path: string;
  fields: FieldInfo[];
  /** A server stream (WatchEvents). */
  responseStream: boolean;
}

function serviceMethods(): Method[] {
  const service = loadSync(ioasidProtoPath())[SERVICE] as Record<string, { path: string; responseStream: boolean; requestType: { type: { field: FieldInfo[] } } }>;
  return Object.entries(service).map(([name, m]) => ({ name, path: m.path, fields: m.requestType.type.field, responseStream: m.responseStream }));
}

/**
 * Malformed protobuf at every gRPC method: right field numbers with hostile values, wrong wire
 * types, unknown fields, lying lengths, truncated messages, invalid UTF-8 in strings. The server
 * answers a documented status, never INTERNAL/UNKNOWN, and a refused call writes nothing.
 */
describe('hostile input at every gRPC method', () => {
  let backend: TestBackend;
  let app: TestApp;
  let db: Client;
  let client: grpc.Client;
  let tenantToken: string;
  const realIds: string[] = [];
  const tally = { calls: 0, refused: 0, byStatus: {} as Record<string, number> };

  before(async () => {
    backend = await postgresBackend();
    app = await startTestApp(backend.env);
    db = new Client({ connectionString: backend.env.DATABASE_URL });
    await db.connect();
    const tenant = await createTenant(app.operator);
    tenantToken = tenant.token;
    const hostId = await registerHost(app.operator, { hostId: 'grpc-hostile-h', devices: [{ rid: '0000:3b:00.1', kind: 'vf' }] });
    const fdId = await createFd(tenant.client, hostId);
    expectStatus(await tenant.client.put(`/v1/fds/${fdId}/hwid-mode`, { mode: 'global' }), 200);
    expectStatus(await tenant.client.post(`/v1/fds/${fdId}/ioasids`), 201);
    realIds.push(hostId, fdId);
    client = new grpc.Client(app.started.grpcUrl!, grpc.credentials.createInsecure());
  });
  after(async () => {
    client?.close();
    await db?.end();
    await app?.close();
    await backend?.dispose();
    console.log(`hostile gRPC figures: ${JSON.stringify({ runsPerMethod: RUNS_PER_METHOD, ...tally })}`);
  });

  function callRaw(path: string, payload: Buffer, token: string): Promise<grpc.status> {
    const metadata = new grpc.Metadata();
    metadata.set('authorization', `Bearer ${token}`);
    return new Promise((resolve) => {
      client.makeUnaryRequest(
        path,
        (b: Buffer) => b,
        (b: Buffer) => b,
        payload,
        metadata,
        { deadline: Date.now() + 60_000 },
        (error) => resolve(error ? (error.code as grpc.status) : grpc.status.OK),
      );
    });
  }

  /**
   * A server stream accepted is open until cancelled: its response headers say so (the watch
   * sends them once open), and that is OK; a refusal is the call's status, with no headers first.
   */
  function streamRaw(path: string, payload: Buffer, token: string): Promise<grpc.status> {
    const metadata = new grpc.Metadata();
    metadata.set('authorization', `Bearer ${token}`);
    return new Promise((resolve) => {
      let opened = false;
      const call = client.makeServerStreamRequest(path, (b: Buffer) => b, (b: Buffer) => b, payload, metadata, { deadline: Date.now() + 60_000 });
      call.on('metadata', () => {
        opened = true;
        call.cancel();
      });
      call.on('data', () => {});
      call.on('error', () => {});
      call.on('status', ({ code }: grpc.StatusObject) => resolve(opened && code === grpc.status.CANCELLED ? grpc.status.OK : code));
    });
  }

  it('covers every method of the service', () => {
    assert.ok(serviceMethods().length >= 26, `${serviceMethods().length} methods`);
  });

  for (const method of serviceMethods()) {
    it(`${method.name}: a documented status for any bytes, and no write when refused`, async () => {
      const operatorOnly = OPERATIONS.some((op) => op.operatorOnly && op.grpc.method === method.name);
      await fc.assert(
        fc.asyncProperty(hostileMessage(method.fields, realIds), fc.boolean(), async (payload, asOwner) => {
          const token = asOwner === operatorOnly ? TEST_OPERATOR_TOKEN : tenantToken;
          const before = await writtenRows(db);
          const code = await (method.responseStream ? streamRaw : callRaw)(method.path, payload, token);
          tally.calls++;
          tally.byStatus[grpc.status[code]] = (tally.byStatus[grpc.status[code]] ?? 0) + 1;
          assert.ok(ALLOWED.has(code), `${method.name}(${payload.toString('hex').slice(0, 200)}): ${grpc.status[code]}`);
          if (code !== grpc.status.OK) {
            tally.refused++;
            assert.deepEqual(await writtenRows(db), before, `${method.name} refused with ${grpc.status[code]} yet wrote`);
          }
        }),
        { numRuns: RUNS_PER_METHOD },
      );
    });
  }

  it('refuses a tenant name with NUL (found by this fuzzer: PostgreSQL text cannot hold it) as INVALID_ARGUMENT', async () => {
    const before = await writtenRows(db);
    const name = Buffer.from('a\u0000b');
    const code = await callRaw(`/${SERVICE}/CreateTenant`, Buffer.concat([Buffer.from([0x0a, name.length]), name]), TEST_OPERATOR_TOKEN);
    assert.equal(code, grpc.status.INVALID_ARGUMENT);
    assert.deepEqual(await writtenRows(db), before);
  });

  it('refuses a message over the size limit without touching the store', async () => {
    const before = await writtenRows(db);
    const huge = Buffer.concat([Buffer.from([0x0a]), Buffer.from([0x80, 0x80, 0x80, 0x03]), Buffer.alloc(6 << 20, 0x61)]);
    const code = await callRaw(`/${SERVICE}/CreateTenant`, huge, TEST_OPERATOR_TOKEN);
    assert.equal(code, grpc.status.RESOURCE_EXHAUSTED);
    assert.deepEqual(await writtenRows(db), before);
  });
});
