import assert from 'node:assert/strict';
import { status as GrpcStatus } from '@grpc/grpc-js';
import { describe, it } from 'node:test';
import { API_ERROR_CODES, ERROR_STATUS } from '../../src/api/errors/error-table';
import { OPERATIONS } from '../../src/api/operations/operation-table';
import { apiDocErrorRows, apiDocRows } from '../support/api-doc';
import { contractBreach } from '../support/reliability-contract';

/** The public contract written down stays the one the operation and error tables serve. */
describe('docs/API.md', () => {
  it('lists every operation with its REST route, success status and gRPC method', () => {
    const rows = apiDocRows(/^`([a-z][A-Za-z]+)`$/);
    for (const op of OPERATIONS) {
      const row = rows.get(op.id);
      assert.ok(row, `${op.id} has a row`);
      assert.equal(row[1], `\`${op.rest.method} /${op.rest.path.replace(/:(\w+)/g, '{$1}')}\``, `${op.id}'s route`);
      assert.equal(row[2], String(op.rest.status), `${op.id}'s success status`);
      assert.equal(row[3], `\`${op.grpc.method}\``, `${op.id}'s gRPC method`);
      assert.equal(row[4], op.operatorOnly ? 'operator' : 'any', `${op.id}'s caller`);
    }
  });

  it('explains every error code with its HTTP and gRPC status', () => {
    const rows = apiDocErrorRows();
    for (const code of API_ERROR_CODES) {
      const row = rows.get(code);
      assert.ok(row, `${code} has a row`);
      assert.match(row[1], new RegExp(`^${ERROR_STATUS[code].http}\\b`), `${code}'s HTTP status`);
      assert.equal(row[2], GrpcStatus[ERROR_STATUS[code].grpc], `${code}'s gRPC status`);
      assert.ok(row[3].length > 20, `${code} says when it is answered`);
    }
  });

  it("is the reliability suites' contract: every code is accepted with its status (and 503 where allowed), and only with it", () => {
    const answer = (code: string) => JSON.stringify({ error: { code, message: 'refused', details: {} } });
    for (const code of API_ERROR_CODES) {
      const { http } = ERROR_STATUS[code];
      if (http >= 500 && http !== 503) continue;
      assert.equal(contractBreach(http, 'application/json', answer(code), { allow503: true }), undefined, `${code} at ${http}`);
      const elsewhere = http === 404 ? 400 : 404;
      assert.equal(contractBreach(elsewhere, 'application/json', answer(code)), `code ${code} is not documented for HTTP ${elsewhere}`);
    }
  });
});
