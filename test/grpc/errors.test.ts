import { status, type Metadata, type ServiceError } from '@grpc/grpc-js';
import type { ArgumentsHost } from '@nestjs/common';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { lastValueFrom, type Observable } from 'rxjs';
import { ApiExceptionFilter } from '../../src/api/errors/api-exception.filter';
import { postgresBackend, startTestApp, TEST_OPERATOR_TOKEN, unique, type TestApp, type TestBackend } from '../support/app';
import { callError, errorCodeOf, IoasidClient } from './grpc-client';

const RID_A = '0000:5e:00.1';

/** The status, the stable code in `error-code` and the details in `error-details` of a failed call. */
async function expectGrpcError(call: Promise<unknown>, grpcStatus: status, code: string): Promise<ServiceError & { apiDetails: any }> {
  const error = await callError(call);
  const carried = errorCodeOf(error);
  assert.equal(carried.code, code, `error-code of "${error.message}"`);
  assert.equal(error.code, grpcStatus, `gRPC status ${status[error.code]} for ${code}`);
  assert.ok(error.details.length > 0, 'a message for people');
  return Object.assign(error, { apiDetails: carried.details });
}

describe('gRPC: status mapping, auth, tenancy and idempotency', () => {
  let backend: TestBackend;
  let app: TestApp;
  let operator: IoasidClient;
  let tenantA: IoasidClient;
  let tenantB: IoasidClient;
  let hostId: string;

  async function newTenant(quotas?: { maxFds?: number; maxHostPasids?: number }): Promise<IoasidClient> {
    const created = await operator.call('CreateTenant', { name: unique('tenant'), ...(quotas ? { quotas } : {}) });
    return operator.as(created.token);
  }

  async function openFd(client: IoasidClient): Promise<string> {
    return (await client.call('CreateFd', { hostId, vmId: unique('vm') })).fdId;
  }

  before(async () => {
    backend = await postgresBackend();
    app = await startTestApp(backend.env);
    operator = new IoasidClient(app.started.grpcUrl!, TEST_OPERATOR_TOKEN);
    tenantA = await newTenant();
    tenantB = await newTenant({ maxFds: 1 });
    hostId = unique('host');
    await operator.call('RegisterHost', {
      hostId,
      pasidBits: 20,
      enqcmd: true,
      nestedPasidTable: true,
      devices: [{ rid: RID_A, kind: 'vf', pasidBits: 20 }],
    });
  });

  after(async () => {
    for (const client of [tenantA, tenantB, operator]) client?.close();
    await app?.close();
    await backend?.dispose();
  });

  describe('INVALID_ARGUMENT', () => {
    it('refuses a negative number with VALIDATION_FAILED and the same details as REST', async () => {
      const fdId = await openFd(tenantA);
      await tenantA.call('SetHwidMode', { fdId, mode: 'global' });
      const error = await expectGrpcError(tenantA.call('SetGlobalMin', { fdId, globalMin: -1 }), status.INVALID_ARGUMENT, 'VALIDATION_FAILED');
      assert.deepEqual(
        error.apiDetails.fields.map((f: { field: string }) => f.field),
        ['globalMin'],
      );

      const rest = await app.operator.as(tenantA.token).put(`/v1/fds/${fdId}/global-min`, { globalMin: -1 });
      assert.equal(rest.status, 400);
      assert.deepEqual(error.apiDetails, rest.body.error.details, 'one validation, two transports');
    });

    it('validates plain proto3 fields at their default: an absent host id is empty, pasid bits 0', async () => {
      const error = await expectGrpcError(operator.call('RegisterHost', { enqcmd: true }), status.INVALID_ARGUMENT, 'VALIDATION_FAILED');
      const fields = error.apiDetails.fields.map((f: { field: string }) => f.field).sort();
      assert.deepEqual(fields, ['hostId', 'pasidBits']);
    });

    it('takes false for a plain bool left at its default (enqcmd, nestedPasidTable)', async () => {
      const plainHost = unique('host');
      const host = await operator.call('RegisterHost', { hostId: plainHost, pasidBits: 8, devices: [{ rid: RID_A, kind: 'siov', pasidBits: 8 }] });
      assert.equal(host.hostId, plainHost);
      assert.deepEqual([host.enqcmd, host.nestedPasidTable], [false, false]);
    });

    it('refuses a malformed fd id and an oversized idempotency key', async () => {
      await expectGrpcError(tenantA.call('GetFd', { fdId: 'not-a-uuid' }), status.INVALID_ARGUMENT, 'VALIDATION_FAILED');
      const fdId = await openFd(tenantA);
      await expectGrpcError(tenantA.call('AllocIoasid', { fdId }, { idempotencyKey: 'k'.repeat(256) }), status.INVALID_ARGUMENT, 'VALIDATION_FAILED');
    });
  });

  describe('UNAUTHENTICATED', () => {
    it('refuses a call without a token', async () => {
      await expectGrpcError(operator.call('ListHosts', {}, { token: null }), status.UNAUTHENTICATED, 'UNAUTHENTICATED');
    });

    it('refuses a wrong token', async () => {
      await expectGrpcError(operator.call('ListHosts', {}, { token: 'not-a-token-of-this-service' }), status.UNAUTHENTICATED, 'UNAUTHENTICATED');
    });
  });

  describe('PERMISSION_DENIED', () => {
    it('refuses a tenant on the operator RPCs', async () => {
      const hostSpec = { hostId: unique('host'), pasidBits: 20, devices: [] };
      await expectGrpcError(tenantA.call('RegisterHost', hostSpec), status.PERMISSION_DENIED, 'FORBIDDEN');
      await expectGrpcError(tenantA.call('CreateTenant', { name: unique('t') }), status.PERMISSION_DENIED, 'FORBIDDEN');
      await expectGrpcError(tenantA.call('GetHardware', { hostId }), status.PERMISSION_DENIED, 'FORBIDDEN');
      await expectGrpcError(tenantA.call('VerifyHost', { hostId }), status.PERMISSION_DENIED, 'FORBIDDEN');
    });
  });

  describe('NOT_FOUND', () => {
    it('answers a missing fd and another tenant\'s fd alike', async () => {
      const missing = await expectGrpcError(tenantA.call('GetFd', { fdId: randomUUID() }), status.NOT_FOUND, 'NOT_FOUND');
      const fdOfA = await openFd(tenantA);
      const foreign = await expectGrpcError(tenantB.call('GetFd', { fdId: fdOfA }), status.NOT_FOUND, 'NOT_FOUND');
      assert.equal(foreign.details.replace(fdOfA, '<fd>'), missing.details.replace(/[0-9a-f-]{36}/, '<fd>'), 'nothing tells a foreign fd from a missing one');
      await expectGrpcError(tenantB.call('SetHwidMode', { fdId: fdOfA, mode: 'local' }), status.NOT_FOUND, 'NOT_FOUND');
      await expectGrpcError(tenantB.call('CloseFd', { fdId: fdOfA }), status.NOT_FOUND, 'NOT_FOUND');
      assert.equal((await tenantA.call('GetFd', { fdId: fdOfA })).hwidMode, undefined, 'the foreign calls changed nothing');
    });

    it('answers an unknown host', async () => {
      await expectGrpcError(tenantA.call('GetHost', { hostId: unique('nowhere') }), status.NOT_FOUND, 'NOT_FOUND');
    });
  });

  describe('ALREADY_EXISTS', () => {
    it('refuses a second open fd for the same VM on the same host', async () => {
      const vmId = unique('vm');
      await tenantA.call('CreateFd', { hostId, vmId });
      await expectGrpcError(tenantA.call('CreateFd', { hostId, vmId }), status.ALREADY_EXISTS, 'ALREADY_EXISTS');
    });
  });

  describe('FAILED_PRECONDITION', () => {
    it('refuses a second hwid mode and a global min in local mode', async () => {
      const fdId = await openFd(tenantA);
      await tenantA.call('SetHwidMode', { fdId, mode: 'local' });
      await expectGrpcError(tenantA.call('SetHwidMode', { fdId, mode: 'global' }), status.FAILED_PRECONDITION, 'HWID_MODE_ALREADY_SET');
      await expectGrpcError(tenantA.call('SetGlobalMin', { fdId, globalMin: 1024 }), status.FAILED_PRECONDITION, 'WRONG_HWID_MODE');
    });
  });

  describe('OUT_OF_RANGE', () => {
    it('refuses a user PASID at or above globalMin in global mode', async () => {
      const fdId = await openFd(tenantA);
      await tenantA.call('SetHwidMode', { fdId, mode: 'global' });
      await tenantA.call('SetGlobalMin', { fdId, globalMin: 1024 });
      const { ioasid } = await tenantA.call('AllocIoasid', { fdId });
      await tenantA.call('AttachDevice', { fdId, ioasid, rid: RID_A, enqcmd: true });
      const error = await expectGrpcError(tenantA.call('SetHwid', { fdId, ioasid, pasid: 1024 }), status.OUT_OF_RANGE, 'PASID_OUT_OF_RANGE');
      assert.deepEqual(error.apiDetails, { pasid: 1024, globalMin: 1024 });
    });
  });

  describe('RESOURCE_EXHAUSTED', () => {
    it('refuses an fd over the tenant quota on the host', async () => {
      await openFd(tenantB);
      const error = await expectGrpcError(tenantB.call('CreateFd', { hostId, vmId: unique('vm') }), status.RESOURCE_EXHAUSTED, 'QUOTA_EXCEEDED');
      assert.equal(error.apiDetails.limit, 1);
    });
  });

  describe('idempotency-key metadata', () => {
    it('answers a repeat with the first answer and appends nothing', async () => {
      const fdId = await openFd(tenantA);
      const key = `alloc-${randomUUID()}`;
      const first = await tenantA.call('AllocIoasid', { fdId }, { idempotencyKey: key });
      const eventsAfterFirst = (await tenantA.call('ListEvents', { fdId })).events.length;
      const repeat = await tenantA.call('AllocIoasid', { fdId }, { idempotencyKey: key });
      assert.deepEqual(repeat, first);
      assert.equal((await tenantA.call('ListEvents', { fdId })).events.length, eventsAfterFirst, 'no event for the repeat');
      const fresh = await tenantA.call('AllocIoasid', { fdId });
      assert.equal(fresh.ioasid, first.ioasid + 1, 'without the key it is a new allocation');
    });

    it('refuses the same key with another request: OUT_OF_RANGE / IDEMPOTENCY_KEY_REUSED', async () => {
      const fdId = await openFd(tenantA);
      await tenantA.call('SetHwidMode', { fdId, mode: 'global' });
      const key = `min-${randomUUID()}`;
      await tenantA.call('SetGlobalMin', { fdId, globalMin: 1024 }, { idempotencyKey: key });
      await expectGrpcError(tenantA.call('SetGlobalMin', { fdId, globalMin: 2048 }, { idempotencyKey: key }), status.OUT_OF_RANGE, 'IDEMPOTENCY_KEY_REUSED');
      assert.equal((await tenantA.call('GetFd', { fdId })).globalMin, 1024);
    });
  });

  describe('INTERNAL', () => {
    it('answers an unexpected error as INTERNAL with code INTERNAL, never UNKNOWN', async () => {
      const rpcHost = { getType: () => 'rpc', switchToRpc: () => ({ getContext: () => ({}) }) } as unknown as ArgumentsHost;
      const answer = new ApiExceptionFilter().catch(new TypeError('secret internals'), rpcHost) as Observable<never>;
      const error = await lastValueFrom(answer).then(
        () => assert.fail('the filter must answer with an error'),
        (e: { code: number; details: string; metadata: Metadata }) => e,
      );
      assert.equal(error.code, status.INTERNAL);
      assert.deepEqual(error.metadata.get('error-code'), ['INTERNAL']);
      assert.doesNotMatch(error.details, /secret/, 'no internals leak to the caller');
    });
  });
});
