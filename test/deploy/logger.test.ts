import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Logger } from '@nestjs/common';
import fc from 'fast-check';
import { loadConfig } from '../../src/config';
import { createLogger, JsonLogger } from '../../src/observability/logger';
import { REDACTED } from '../../src/observability/redact';
import { addToContext, openRequestContext, requestContextOf } from '../../src/observability/request-context';

function capture(options: ConstructorParameters<typeof JsonLogger>[0] = {}) {
  const raw: string[] = [];
  const logger = new JsonLogger({ ...options, out: { write: (line: string) => raw.push(line) } });
  const parsed = () =>
    raw.map((line) => {
      assert.ok(line.endsWith('\n') && !line.slice(0, -1).includes('\n'), 'one line per entry');
      return JSON.parse(line) as Record<string, unknown>;
    });
  return { logger, raw, parsed };
}

describe('JsonLogger', () => {
  it('writes one JSON object per line with time, level, msg and context', () => {
    const now = new Date('2026-01-02T03:04:05.678Z');
    const { logger, parsed } = capture({ now: () => now });
    logger.log('started', 'Bootstrap');
    logger.warn('slow\nquery');
    assert.deepEqual(parsed(), [
      { time: '2026-01-02T03:04:05.678Z', level: 'info', msg: 'started', context: 'Bootstrap' },
      { time: '2026-01-02T03:04:05.678Z', level: 'warn', msg: 'slow\nquery' },
    ]);
  });

  it('adds no request context of its own: a line carries the fields it is given', async () => {
    const { logger, parsed } = capture();
    const context = openRequestContext({}, { correlationId: 'c-1' });
    addToContext(context, { tenant: 't-1', host: 'h-1', command: 'CreateFd' });
    logger.log('outside');
    logger.log({ msg: 'inside', ...context }, 'Handler');
    const [outside, inside] = parsed();
    assert.deepEqual(Object.keys(outside).sort(), ['level', 'msg', 'time']);
    assert.deepEqual(inside, { time: inside.time, level: 'info', msg: 'inside', context: 'Handler', correlationId: 'c-1', tenant: 't-1', host: 'h-1', command: 'CreateFd' });
  });

  it('writes a plain object as fields, without letting it overwrite time, level or msg', () => {
    const { logger, parsed } = capture();
    logger.log({ msg: 'published', host: 'h-9', events: 3, level: 'fatal', time: 'yesterday' }, 'Relay');
    const [line] = parsed();
    assert.equal(line.msg, 'published');
    assert.equal(line.level, 'info');
    assert.notEqual(line.time, 'yesterday');
    assert.equal(line.host, 'h-9');
    assert.equal(line.events, 3);
    assert.equal(line.context, 'Relay');
  });

  it('follows Nest conventions for errors: stack and context, or an Error object', () => {
    const { logger, parsed } = capture();
    const err = new Error('boom');
    logger.error('handler failed', err.stack, 'ExceptionsHandler');
    logger.error(err);
    const [first, second] = parsed();
    assert.equal(first.msg, 'handler failed');
    assert.equal(first.context, 'ExceptionsHandler');
    assert.match(String(first.stack), /Error: boom\n\s+at /);
    assert.equal(second.msg, 'boom');
    assert.equal((second.err as { message: string }).message, 'boom');
  });

  it('serves as Nest Logger backend', () => {
    const { logger, parsed } = capture();
    Logger.overrideLogger(logger);
    try {
      new Logger('Outbox').log({ msg: 'flushed', rows: 2 });
      new Logger('grpc').log({ msg: 'rpc' }, 'grpc');
      new Logger('Relay').warn('retrying', { attempt: 2 });
    } finally {
      Logger.overrideLogger(true);
    }
    assert.deepEqual(
      parsed().map(({ time: _t, ...rest }) => rest),
      [
        { level: 'info', msg: 'flushed', rows: 2, context: 'Outbox' },
        { level: 'info', msg: 'rpc', context: 'grpc' },
        { level: 'warn', msg: 'retrying', attempt: 2, context: 'Relay' },
      ],
    );
  });

  it('drops entries below LOG_LEVEL', () => {
    const { logger, parsed } = capture({ level: 'warn' });
    logger.debug('d');
    logger.log('i');
    logger.warn('w');
    logger.error('e');
    logger.fatal('f');
    assert.deepEqual(parsed().map((l) => l.level), ['warn', 'error', 'fatal']);
    logger.setLogLevels(['error', 'log', 'debug']);
    logger.verbose('v');
    logger.debug('d2');
    assert.deepEqual(parsed().map((l) => l.msg).slice(3), ['d2']);
  });

  it('takes its level from LOG_LEVEL (default info)', () => {
    const lines: string[] = [];
    const sink = { write: (l: string) => lines.push(l) };
    createLogger(loadConfig({}), sink).debug('hidden');
    createLogger(loadConfig({ LOG_LEVEL: 'DEBUG' }), sink).debug('shown');
    assert.deepEqual(lines.map((l) => JSON.parse(l).msg), ['shown']);
    assert.throws(() => loadConfig({ LOG_LEVEL: 'chatty' }), /LOG_LEVEL/);
  });
});

describe('JsonLogger redaction', () => {
  const operatorToken = 'op_Zm9vYmFyYmF6cXV4cXV1eDEyMzQ1Njc4';

  it('never writes the operator token, bearer tokens, secret fields or URL passwords', () => {
    const lines: string[] = [];
    const logger = createLogger({ operatorToken }, { write: (l: string) => lines.push(l) });
    logger.log(`token is ${operatorToken}`);
    logger.log({ msg: 'request', headers: { Authorization: 'Bearer tn_abcdefghijklmnop', accept: 'json' } });
    logger.warn('got header authorization: Bearer tn_abcdefghijklmnop from client');
    logger.log({ msg: 'created tenant', body: { tenantId: 't1', token: 'tn_secretsecretsecret' } });
    logger.error('cannot connect to postgres://ioasid:hunter2hunter2@db:5432/ioasid');
    logger.log('callback https://x.test/cb?token=abc123def456&x=1');
    logger.error(new Error(`login failed for Bearer tn_abcdefghijklmnop`));

    const text = lines.join('');
    for (const secret of [operatorToken, 'tn_abcdefghijklmnop', 'tn_secretsecretsecret', 'hunter2hunter2', 'abc123def456']) {
      assert.ok(!text.includes(secret), `${secret} leaked: ${text}`);
    }
    const parsed = lines.map((l) => JSON.parse(l));
    assert.equal(parsed[1].headers.Authorization, REDACTED);
    assert.equal(parsed[1].headers.accept, 'json');
    assert.equal(parsed[3].body.tenantId, 't1');
    assert.equal(parsed[4].msg, `cannot connect to postgres://ioasid:${REDACTED}@db:5432/ioasid`);
  });

  it('redacts any bearer token wherever it appears in a message', () => {
    fc.assert(
      fc.property(fc.string(), fc.stringMatching(/^[A-Za-z0-9_\-.~+/]{8,40}$/), fc.string(), (before, token, after) => {
        const lines: string[] = [];
        const logger = new JsonLogger({ out: { write: (l: string) => lines.push(l) } });
        logger.log(`${before} Bearer ${token} ${after}`);
        const entry = JSON.parse(lines[0]);
        return !String(entry.msg).includes(`Bearer ${token}`);
      }),
    );
  });

  it('survives cycles, bigints and deep objects', () => {
    const { logger, parsed } = capture();
    const cyclic: Record<string, unknown> = { name: 'loop', n: 10n };
    cyclic.self = cyclic;
    let deep: Record<string, unknown> = { leaf: true };
    for (let i = 0; i < 20; i++) deep = { deep };
    logger.log({ msg: 'odd', cyclic, deep });
    const [line] = parsed();
    assert.deepEqual(line.cyclic, { name: 'loop', n: '10', self: '[Circular]' });
    assert.match(JSON.stringify(line.deep), /\[Truncated\]/);
  });
});

describe('request contexts', () => {
  it('keeps one context per carrier, adding only defined, non-empty fields', () => {
    const [a, b] = [{}, {}];
    const ca = openRequestContext(a, { correlationId: 'a', tenant: '' });
    openRequestContext(b, { correlationId: 'b' });
    addToContext(requestContextOf(a), { tenant: 't-a', host: undefined });
    addToContext(requestContextOf(b), { tenant: 't-b', command: 'CloseFd' });
    addToContext(undefined, { tenant: 'nobody' });
    assert.equal(requestContextOf(a), ca);
    assert.deepEqual(requestContextOf(a), { correlationId: 'a', tenant: 't-a' });
    assert.deepEqual(requestContextOf(b), { correlationId: 'b', tenant: 't-b', command: 'CloseFd' });
    assert.equal(requestContextOf({}), undefined);
  });
});
