import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ERROR_STATUS } from '../../src/api/errors/error-table';
import { OPERATIONS } from '../../src/api/operations/operation-table';
import { errorCodesOf, headersOf } from '../../src/api/operations/operation';
import { pgliteBackend, useTestApp } from '../support/app';
import { fetchOpenApi, lintOpenApi } from '../support/openapi-lint';

const METHODS = ['get', 'put', 'post', 'delete', 'patch'];

/** The document /docs-json serves describes the API itself, and the OpenAPI linters find no error in it. */
describe('the OpenAPI document', () => {
  const suite = useTestApp({ backend: pgliteBackend });

  it('passes Spectral (spectral:oas) and Redocly (recommended) with no error', async () => {
    const runs = await lintOpenApi(await fetchOpenApi(suite.app.url));
    for (const run of runs) assert.equal(run.exitCode, 0, `${run.linter} found errors:\n${run.output}`);
  });

  it('describes every operation of the table: operationId, summary, success schema, error codes and envelope, headers', async () => {
    const document = await fetchOpenApi(suite.app.url);
    assert.ok(document.servers?.length > 0, 'servers is set');
    assert.deepEqual(document.security, [{ bearer: [] }]);
    const operations = Object.values<any>(document.paths).flatMap((path) => METHODS.filter((m) => path[m]).map((m) => path[m]));
    for (const op of OPERATIONS) {
      const described = operations.find((o) => o.operationId === op.id);
      assert.ok(described, `${op.id} is in the document`);
      assert.ok(described.summary, `${op.id} has a summary`);
      const success = described.responses[String(op.rest.status)];
      assert.ok(success, `${op.id} documents its ${op.rest.status}`);
      // A stream's success is Server-Sent Events, each event's data one item of the row's response.
      const media = op.execution.kind === 'stream' ? 'text/event-stream' : 'application/json';
      if (op.response) assert.ok(success.content[media].schema.$ref, `${op.id} has its success schema (${media})`);
      const codes = errorCodesOf(op);
      assert.deepEqual(described['x-error-codes'], codes);
      for (const code of codes) {
        const response = described.responses[String(ERROR_STATUS[code].http)];
        assert.ok(response, `${op.id} documents ${code}'s status`);
        const [envelope, narrowed] = response.content['application/json'].schema.allOf;
        assert.equal(envelope.$ref, '#/components/schemas/ErrorBodyDto');
        assert.ok(narrowed.properties.error.properties.code.enum.includes(code), `${op.id}: ${code} is in its status's code enum`);
      }
      const headers = described.parameters.filter((p: any) => p.in === 'header').map((p: any) => p.name);
      assert.ok(headers.includes('x-correlation-id'), `${op.id} reads x-correlation-id`);
      const keyed = op.execution.kind === 'write' && op.execution.idempotencyKey;
      assert.equal(headers.includes('Idempotency-Key'), keyed, `${op.id} ${keyed ? 'reads' : 'ignores'} Idempotency-Key`);
      assert.equal(headers.includes('If-Match'), op.conditional, `${op.id} ${op.conditional ? 'reads' : 'ignores'} If-Match`);
      for (const header of headersOf(op).reads) assert.ok(headers.includes(header.name), `${op.id} reads ${header.name}`);
      for (const header of headersOf(op).writes) assert.ok(success.headers[header.name], `${op.id} answers ${header.name}`);
      assert.notEqual(described.security?.length, 0, `${op.id} needs a bearer token`);
    }
    assert.equal(operations.length, OPERATIONS.length + 3, 'the table and the three probes, nothing else');
    for (const probe of ['/healthz', '/readyz', '/metrics']) assert.deepEqual(document.paths[probe].get.security, [], `${probe} is public`);
  });

  it('holds no component that no operation uses (no gRPC request classes)', async () => {
    const document = await fetchOpenApi(suite.app.url);
    const text = JSON.stringify(document.paths) + JSON.stringify(Object.values(document.components.schemas));
    for (const name of Object.keys(document.components.schemas)) {
      assert.ok(text.includes(`"#/components/schemas/${name}"`), `${name} is referenced`);
    }
  });
});
