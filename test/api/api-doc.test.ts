import assert from 'node:assert/strict';
import { status as GrpcStatus } from '@grpc/grpc-js';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { API_ERROR_CODES, ERROR_STATUS } from '../../src/api/errors/error-table';
import { OPERATIONS } from '../../src/api/operations/operation-table';

/** docs/API.md's tables, as written: one row per operation and per error code. */
const API_MD = readFileSync(join(__dirname, '..', '..', '..', 'docs', 'API.md'), 'utf8');

function rowsOf(firstCell: RegExp): Map<string, string[]> {
  const rows = new Map<string, string[]>();
  for (const line of API_MD.split('\n')) {
    const cells = line.split('|').slice(1, -1).map((c) => c.trim());
    const key = cells[0]?.match(firstCell)?.[1];
    if (key) rows.set(key, cells);
  }
  return rows;
}

/** The public contract written down stays the one the operation and error tables serve. */
describe('docs/API.md', () => {
  it('lists every operation with its REST route, success status and gRPC method', () => {
    const rows = rowsOf(/^`([a-z][A-Za-z]+)`$/);
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
    const rows = rowsOf(/^`([A-Z_]+)`$/);
    for (const code of API_ERROR_CODES) {
      const row = rows.get(code);
      assert.ok(row, `${code} has a row`);
      assert.match(row[1], new RegExp(`^${ERROR_STATUS[code].http}\\b`), `${code}'s HTTP status`);
      assert.equal(row[2], GrpcStatus[ERROR_STATUS[code].grpc], `${code}'s gRPC status`);
      assert.ok(row[3].length > 20, `${code} says when it is answered`);
    }
  });
});
