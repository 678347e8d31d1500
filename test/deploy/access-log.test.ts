import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { INestApplication } from '@nestjs/common';
import { JsonLogger } from '../../src/observability/logger';
import { startGatedApp } from '../support/gated-app';
import { httpRequest } from '../support/http-request';

type Line = Record<string, unknown>;

function collecting(level: 'info' | 'debug') {
  const lines: Line[] = [];
  const raw: string[] = [];
  const logger = new JsonLogger({
    level,
    secrets: ['op_operator-token-never-logged'],
    out: {
      write: (l: string) => {
        raw.push(l);
        lines.push(JSON.parse(l));
      },
    },
  });
  return { logger, lines, raw };
}

/** The access line is written on 'finish', which may come just after the client saw the response. */
async function accessLine(lines: Line[], predicate: (l: Line) => boolean): Promise<Line> {
  for (let i = 0; i < 100; i++) {
    const found = lines.find((l) => l.msg === 'request' && predicate(l));
    if (found) return found;
    await new Promise((r) => setImmediate(r));
  }
  throw new Error(`no access line matched in ${JSON.stringify(lines)}`);
}

describe('access log and request context over a real Nest HTTP server', () => {
  const { logger, lines, raw } = collecting('info');
  let app: INestApplication;
  let url: string;
  before(async () => {
    ({ app, url } = await startGatedApp(logger));
  });
  after(async () => {
    await app.close();
  });

  it('writes method, path, status, ms and the context the handler filled in', async () => {
    const answer = await httpRequest(`${url}/hosts/h-7/things?pageToken=abc`, {
      method: 'POST',
      body: { tenant: 't-3' },
      headers: { 'x-correlation-id': 'corr-42', authorization: 'Bearer op_operator-token-never-logged' },
    });
    assert.equal(answer.status, 201);
    const line = await accessLine(lines, (l) => l.correlationId === 'corr-42');
    assert.equal(line.method, 'POST');
    assert.equal(line.path, '/hosts/h-7/things');
    assert.equal(line.status, 201);
    assert.equal(typeof line.ms, 'number');
    assert.equal(line.context, 'http');
    assert.equal(line.tenant, 't-3');
    assert.equal(line.host, 'h-7');
    assert.equal(line.command, 'MakeThing');

    const inside = lines.find((l) => l.msg === 'making a thing');
    assert.ok(inside, 'the handler logged');
    assert.equal(inside.correlationId, 'corr-42', 'the context opened on arrival is the one the handler finds on its request');
    assert.equal(inside.context, 'Handler');
    assert.ok(!raw.join('').includes('op_operator-token-never-logged'));
  });

  it("gives no request's ids to the lines of work a request started (a batch, the relay)", async () => {
    assert.equal((await httpRequest(`${url}/hosts/h-8/things`, { method: 'POST', body: { tenant: 't-8' }, headers: { 'x-correlation-id': 'corr-started' } })).status, 201);
    await accessLine(lines, (l) => l.correlationId === 'corr-started');
    for (let i = 0; i < 100 && !lines.some((l) => l.msg === 'work the request started'); i++) await new Promise((r) => setTimeout(r, 10));
    const later = lines.filter((l) => l.msg === 'work the request started');
    assert.ok(later.length > 0, 'the started work logged');
    for (const line of later) assert.deepEqual([line.correlationId, line.tenant, line.host, line.command], [undefined, undefined, undefined, undefined]);
  });

  it('logs unknown routes with their status, and leaves requests without an id uncorrelated', async () => {
    const answer = await httpRequest(`${url}/nowhere`);
    assert.equal(answer.status, 404);
    const line = await accessLine(lines, (l) => l.path === '/nowhere');
    assert.equal(line.status, 404);
    assert.equal(line.correlationId, undefined);
  });

  it('keeps concurrent requests apart', async () => {
    const ids = Array.from({ length: 20 }, (_, i) => i);
    await Promise.all(
      ids.map((i) =>
        httpRequest(`${url}/hosts/h-${i}/things`, { method: 'POST', body: { tenant: `t-${i}` }, headers: { 'x-correlation-id': `c-${i}` } }),
      ),
    );
    for (const i of ids) {
      const line = await accessLine(lines, (l) => l.correlationId === `c-${i}`);
      assert.equal(line.host, `h-${i}`);
      assert.equal(line.tenant, `t-${i}`);
    }
  });

  it('writes probe requests only at debug level', async () => {
    assert.equal((await httpRequest(`${url}/healthz`)).status, 200);
    await httpRequest(`${url}/quick`);
    await accessLine(lines, (l) => l.path === '/quick');
    assert.equal(lines.filter((l) => l.path === '/healthz').length, 0);
  });
});

describe('access log at debug level', () => {
  const { logger, lines } = collecting('debug');
  let app: INestApplication;
  let url: string;
  before(async () => {
    ({ app, url } = await startGatedApp(logger));
  });
  after(async () => {
    await app.close();
  });

  it('includes probe requests', async () => {
    await httpRequest(`${url}/healthz`);
    const line = await accessLine(lines, (l) => l.path === '/healthz');
    assert.equal(line.level, 'debug');
    assert.equal(line.status, 200);
  });
});
