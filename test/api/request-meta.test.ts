import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { buildRequestMeta, type CallFacts } from '../../src/api/request-meta';
import { OPERATOR } from '../../src/application/principal';
import { isCode } from '../support/domain-errors';

const call = (extra: Partial<CallFacts>): CallFacts => ({ principal: OPERATOR, operation: 'setHwid', payload: { body: { pasid: 3 } }, commandId: 'c-1', correlationId: 'r-1', ...extra });

/** The meta of a write: the Idempotency-Key with the request's fingerprint, or neither. */
describe('request meta', () => {
  it('has no idempotency without a key', () => {
    assert.equal(buildRequestMeta(call({})).idempotency, undefined);
  });

  it('fingerprints the operation and the payload, whatever the order of its keys', () => {
    fc.assert(
      fc.property(fc.dictionary(fc.string(), fc.jsonValue()), (body) => {
        const reversed = Object.fromEntries(Object.entries(body).reverse());
        const a = buildRequestMeta(call({ idempotencyKey: 'k', payload: { body } })).idempotency!;
        const b = buildRequestMeta(call({ idempotencyKey: ['k'], payload: { body: reversed } })).idempotency!;
        assert.deepEqual(a, b);
        assert.equal(a.key, 'k');
        assert.match(a.fingerprint, /^[0-9a-f]{64}$/);
      }),
    );
  });

  it('tells requests apart by operation and by payload', () => {
    const fingerprint = (extra: Partial<CallFacts>) => buildRequestMeta(call({ idempotencyKey: 'k', ...extra })).idempotency!.fingerprint;
    const base = fingerprint({});
    assert.notEqual(fingerprint({ operation: 'allocIoasid' }), base);
    assert.notEqual(fingerprint({ payload: { body: { pasid: 4 } } }), base);
    assert.equal(fingerprint({ commandId: 'c-2', correlationId: 'r-2' }), base, 'the ids of a repeat differ; its fingerprint does not');
  });

  it('refuses an empty, too long or non-string key', () => {
    for (const idempotencyKey of ['', 'k'.repeat(256), 42, {}]) assert.throws(() => buildRequestMeta(call({ idempotencyKey })), isCode('VALIDATION_FAILED'));
  });
});
