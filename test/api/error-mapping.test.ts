import { status as GrpcStatus } from '@grpc/grpc-js';
import { BadRequestException, HttpException, Logger, NotFoundException, type ArgumentsHost } from '@nestjs/common';
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { lastValueFrom, type Observable } from 'rxjs';
import { toApiError } from '../../src/api/errors/api-error';
import { ApiExceptionFilter } from '../../src/api/errors/api-exception.filter';
import { ERROR_STATUS } from '../../src/api/errors/error-table';
import { DomainError, ERROR_CODES } from '../../src/model/errors';

/** API.md "Errors", restated: each code's HTTP status and gRPC status. */
const API_TABLE: Record<string, [number, GrpcStatus]> = {
  VALIDATION_FAILED: [400, GrpcStatus.INVALID_ARGUMENT],
  UNAUTHENTICATED: [401, GrpcStatus.UNAUTHENTICATED],
  FORBIDDEN: [403, GrpcStatus.PERMISSION_DENIED],
  NOT_FOUND: [404, GrpcStatus.NOT_FOUND],
  ALREADY_EXISTS: [409, GrpcStatus.ALREADY_EXISTS],
  ...Object.fromEntries(
    [
      'HWID_MODE_NOT_SET',
      'HWID_MODE_ALREADY_SET',
      'WRONG_HWID_MODE',
      'GLOBAL_MIN_LOCKED',
      'HWID_ALREADY_SET',
      'HWID_NOT_SET',
      'PASID_IN_USE',
      'PASID_NOT_OWNED',
      'DEVICE_BUSY',
      'ALREADY_ATTACHED',
      'NOT_ATTACHED',
      'IOASID_BUSY',
      'CAPABILITY_MISSING',
      'NOT_MIGRATABLE',
      'FD_MIGRATING',
      'VERSION_CONFLICT',
      'HOST_BUSY',
      'HOST_CORDONED',
      'HOST_DECOMMISSIONED',
    ].map((code) => [code, [409, GrpcStatus.FAILED_PRECONDITION]]),
  ),
  ...Object.fromEntries(['PASID_OUT_OF_RANGE', 'PASID_WIDTH_EXCEEDED', 'INVALID_RANGE', 'DEVICE_MAP_INVALID', 'IDEMPOTENCY_KEY_REUSED'].map((code) => [code, [422, GrpcStatus.OUT_OF_RANGE]])),
  PRECONDITION_FAILED: [412, GrpcStatus.FAILED_PRECONDITION],
  QUOTA_EXCEEDED: [429, GrpcStatus.RESOURCE_EXHAUSTED],
  PASID_EXHAUSTED: [429, GrpcStatus.RESOURCE_EXHAUSTED],
  UNAVAILABLE: [503, GrpcStatus.UNAVAILABLE],
};

/** A REST ArgumentsHost whose response records what the filter sent. */
function httpHost(): { host: ArgumentsHost; sent: { status?: number; body?: any } } {
  const sent: { status?: number; body?: any } = {};
  const res = {
    sent: false,
    raw: { headersSent: false },
    status(code: number) {
      sent.status = code;
      return this;
    },
    send(body: unknown) {
      sent.body = body;
      return this;
    },
  };
  const host = { getType: () => 'http', switchToHttp: () => ({ getResponse: () => res, getRequest: () => ({}) }) } as unknown as ArgumentsHost;
  return { host, sent };
}

describe('error mapping', () => {
  it('maps every domain code as API.md says, for REST and gRPC', () => {
    assert.deepEqual([...ERROR_CODES].sort(), Object.keys(API_TABLE).sort());
    for (const code of ERROR_CODES) {
      const error = toApiError(new DomainError(code, `refused: ${code}`, { why: code }));
      assert.deepEqual([error.status.http, error.status.grpc], API_TABLE[code], code);
      assert.equal(error.code, code);
      assert.equal(error.message, `refused: ${code}`);
      assert.deepEqual(error.details, { why: code });
    }
    assert.deepEqual(ERROR_STATUS.INTERNAL, { http: 500, grpc: GrpcStatus.INTERNAL });
  });

  it('maps framework errors to client codes', () => {
    assert.equal(toApiError(new NotFoundException('Cannot GET /x')).code, 'NOT_FOUND');
    assert.equal(toApiError(new BadRequestException('Unexpected token')).code, 'VALIDATION_FAILED');
    // What Nest makes of Fastify's FST_ERR_CTP_BODY_TOO_LARGE and FST_ERR_CTP_INVALID_MEDIA_TYPE.
    const mapped = toApiError(new HttpException('Request body is too large', 413));
    assert.equal(mapped.code, 'VALIDATION_FAILED');
    assert.equal(mapped.status.http, 413);
    assert.equal(mapped.status.grpc, GrpcStatus.INVALID_ARGUMENT);
    const notJson = toApiError(new HttpException('Unsupported Media Type', 415));
    assert.equal(notJson.code, 'VALIDATION_FAILED');
    assert.equal(notJson.status.http, 400);
    assert.deepEqual((notJson.details.fields as Array<{ field: string }>).map((f) => f.field), ['Content-Type']);
  });

  it('answers anything unexpected as INTERNAL without its internals', () => {
    const { host, sent } = httpHost();
    const secret = new Error('connection to 10.0.0.7 failed: password "hunter2"');
    const logged: unknown[] = [];
    // This file runs in its own process: the override ends with it.
    Logger.overrideLogger({ log() {}, warn() {}, error: (message: unknown) => logged.push(message) });
    new ApiExceptionFilter().catch(secret, host);
    assert.deepEqual(logged, [{ msg: 'unexpected error', err: secret }], 'the log gets the error in full');
    assert.equal(sent.status, 500);
    assert.deepEqual(sent.body, { error: { code: 'INTERNAL', message: 'internal error', details: {} } });
    assert.equal(toApiError(new HttpException('internal', 500)).code, 'INTERNAL');
  });

  it('sends REST errors as {error: {code, message, details}}', () => {
    const { host, sent } = httpHost();
    new ApiExceptionFilter().catch(new DomainError('PASID_IN_USE', 'PASID 5 is taken', { pasid: 5 }), host);
    assert.equal(sent.status, 409);
    assert.deepEqual(sent.body, { error: { code: 'PASID_IN_USE', message: 'PASID 5 is taken', details: { pasid: 5 } } });
  });

  it('sends gRPC errors with the status, the message and the stable code in metadata', async () => {
    const host = { getType: () => 'rpc', switchToRpc: () => ({ getContext: () => ({}) }) } as unknown as ArgumentsHost;
    const out = new ApiExceptionFilter().catch(new DomainError('QUOTA_EXCEEDED', 'over quota', { limit: 1 }), host) as Observable<never>;
    const error = await lastValueFrom(out).catch((e: unknown) => e as { code: number; details: string; metadata: { get(key: string): unknown[] } });
    assert.equal(error.code, GrpcStatus.RESOURCE_EXHAUSTED);
    assert.equal(error.details, 'over quota');
    assert.deepEqual(error.metadata.get('error-code'), ['QUOTA_EXCEEDED']);
    assert.deepEqual(JSON.parse(String(error.metadata.get('error-details')[0])), { limit: 1 });
  });
});
