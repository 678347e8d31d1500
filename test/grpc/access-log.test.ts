import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { startApp, type StartedApp } from '../../src/app.factory';
import { loadConfig } from '../../src/config';
import { createLogger } from '../../src/observability/logger';
import { postgresBackend, TEST_OPERATOR_TOKEN, type TestBackend } from '../support/app';
import { callError, IoasidClient } from './grpc-client';

type Line = Record<string, unknown>;

describe('gRPC calls in the access log', () => {
  const lines: Line[] = [];
  let backend: TestBackend;
  let started: StartedApp;
  let operator: IoasidClient;

  before(async () => {
    backend = await postgresBackend();
    const config = loadConfig({ PORT: '0', GRPC_PORT: '0', OPERATOR_TOKEN: TEST_OPERATOR_TOKEN, LOG_LEVEL: 'info', ...backend.env });
    started = await startApp(config, createLogger(config, { write: (line: string) => lines.push(JSON.parse(line)) }));
    operator = new IoasidClient(started.grpcUrl!, TEST_OPERATOR_TOKEN);
  });

  after(async () => {
    operator?.close();
    await started?.close();
    await backend?.dispose();
  });

  const rpcLine = (method: string, correlationId: string): Line | undefined =>
    lines.find((l) => l.msg === 'rpc' && l.method === `/ioasid.v1.IoasidService/${method}` && l.correlationId === correlationId);

  it('writes one line per call with its outcome, the caller and its correlation id', async () => {
    const ok = `list-${randomUUID()}`;
    await operator.call('ListHosts', {}, { correlationId: ok });
    const failed = `get-${randomUUID()}`;
    await callError(operator.call('GetFd', { fdId: randomUUID() }, { correlationId: failed }));

    assert.deepEqual(pick(rpcLine('ListHosts', ok)), { code: 'OK', tenant: 'operator', context: 'grpc' });
    assert.deepEqual(pick(rpcLine('GetFd', failed)), { code: 'NOT_FOUND', tenant: 'operator', context: 'grpc' });
    assert.ok(!lines.some((l) => JSON.stringify(l).includes(TEST_OPERATOR_TOKEN)), 'the token never reaches the log');
  });
});

function pick(line: Line | undefined): Line | undefined {
  return line && { code: line.code, tenant: line.tenant, context: line.context };
}
