import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { documentCheck, pgliteBackend, TEST_OPERATOR_TOKEN, useTestApp, type ResponseCheck } from '../support/app';
import { runEnqcmdScenario, type Answer, type Caller, type ScenarioCalls } from '../support/enqcmd-scenario';
import { generateClient, type GeneratedClient } from '../support/generated-client';
import { fetchOpenApi } from '../support/openapi-lint';

/** The scenario's calls through the generated SDK, each answer checked against the document too. */
function sdkCalls(generated: GeneratedClient, baseUrl: string, check: ResponseCheck): ScenarioCalls {
  const clients = new Map<string, unknown>();
  const clientOf = (as: Caller): unknown => {
    const token = as ?? TEST_OPERATOR_TOKEN;
    if (!clients.has(token)) clients.set(token, generated.createClient({ baseUrl, auth: token }));
    return clients.get(token);
  };
  const call = async (operationId: string, as: Caller, options: object = {}): Promise<Answer> => {
    const { data, error, request, response } = await generated.sdk[operationId]({ client: clientOf(as), ...options });
    const body = response.ok ? data : error;
    const url = new URL(request.url);
    check({ method: request.method, path: `${url.pathname}${url.search}`, status: response.status, contentType: response.headers.get('content-type') ?? '', body });
    return { status: response.status, body };
  };
  return {
    createTenant: (body) => call('createTenant', undefined, { body }),
    registerHost: (body) => call('registerHost', undefined, { body }),
    createFd: (as, body) => call('createFd', as, { body }),
    getFd: (as, fdId) => call('getFd', as, { path: { fdId } }),
    setHwidMode: (as, fdId, body) => call('setHwidMode', as, { path: { fdId }, body }),
    setGlobalMin: (as, fdId, body) => call('setGlobalMin', as, { path: { fdId }, body }),
    allocIoasid: (as, fdId) => call('allocIoasid', as, { path: { fdId }, body: {} }),
    attachDevice: (as, fdId, ioasid, body) => call('attachDevice', as, { path: { fdId, ioasid }, body }),
    setHwid: (as, fdId, ioasid, body) => call('setHwid', as, { path: { fdId, ioasid }, body }),
    getHwid: (as, fdId, ioasid) => call('getHwid', as, { path: { fdId, ioasid } }),
    bindPgtable: (as, fdId, ioasid, body) => call('bindPgtable', as, { path: { fdId, ioasid }, body }),
    setKvmPasidMapping: (as, fdId, guestPasid, body) => call('setKvmPasidMapping', as, { path: { fdId, guestPasid }, body }),
    getHardware: (hostId) => call('getHardware', undefined, { path: { hostId } }),
    verifyHost: (hostId) => call('verifyHost', undefined, { path: { hostId } }),
    listEvents: (as, hostId) => call('listEvents', as, { query: { hostId } }),
  };
}

/** The API can be used from its own description: a client generated from /docs-json runs the README's scenario. */
describe('a TypeScript client generated from the served OpenAPI document (@hey-api/openapi-ts)', () => {
  const suite = useTestApp({ backend: pgliteBackend });
  let dir: string;
  let generated: GeneratedClient;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'ioasid-client-'));
    generated = await generateClient(await fetchOpenApi(suite.app.url), dir);
  });
  after(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('has one SDK function per operation, named by its short operationId', () => {
    for (const id of ['createTenant', 'registerHost', 'createFd', 'setHwid', 'getHwid', 'setKvmPasidMapping', 'migrateFd', 'listEvents', 'healthz']) {
      assert.equal(typeof generated.sdk[id], 'function', id);
    }
  });

  it('runs the README ENQCMD scenario with the documented answers', async () => {
    await runEnqcmdScenario(sdkCalls(generated, suite.app.url, await documentCheck(suite.app.url)));
  });

  it('receives a refusal as the documented error envelope', async () => {
    const calls = sdkCalls(generated, suite.app.url, await documentCheck(suite.app.url));
    const refused = await calls.getFd(undefined, '00000000-0000-4000-8000-000000000000');
    assert.equal(refused.status, 404);
    assert.equal(refused.body.error.code, 'NOT_FOUND');
  });
});
