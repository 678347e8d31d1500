import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { callError, errorCodeOf, IoasidClient } from '../grpc/grpc-client';
import { createFd, createTenant, expectError, expectStatus, registerHost, useTestApp, type ApiClient, type TenantHandle } from '../support/app';

/** Every page of a list, following nextPageToken; a repeated item or a token loop fails. */
async function allPages(client: ApiClient, path: string, key: 'hosts' | 'fds', pageSize: number): Promise<{ items: any[]; pages: number }> {
  const items: any[] = [];
  let token: string | undefined;
  let pages = 0;
  do {
    const sep = path.includes('?') ? '&' : '?';
    const res = await client.get(`${path}${sep}pageSize=${pageSize}${token ? `&pageToken=${encodeURIComponent(token)}` : ''}`);
    expectStatus(res, 200);
    assert.ok(res.body[key].length <= pageSize, 'a page holds at most pageSize items');
    items.push(...res.body[key]);
    token = res.body.nextPageToken;
    pages++;
    assert.ok(pages < 100, 'the pages end');
  } while (token !== undefined);
  return { items, pages };
}

describe('pagination of hosts and fds', () => {
  const suite = useTestApp();
  let hostIds: string[];
  let acme: TenantHandle;
  let other: TenantHandle;
  let acmeFds: string[];

  before(async () => {
    const op = suite.app.operator;
    hostIds = [];
    for (let i = 0; i < 7; i++) hostIds.push(await registerHost(op, { devices: [{ rid: '0000:3b:00.1', kind: 'vf' }] }));
    acme = await createTenant(op);
    other = await createTenant(op);
    acmeFds = [];
    for (let i = 0; i < 5; i++) acmeFds.push(await createFd(acme.client, hostIds[i % 2]));
    await createFd(other.client, hostIds[0]);
  });

  it('pages hosts in host id order, each once, with the default and the limits of pageSize', async () => {
    const { items, pages } = await allPages(acme.client, '/v1/hosts', 'hosts', 3);
    assert.deepEqual(items.map((h) => h.hostId), [...hostIds].sort());
    assert.equal(pages, 3);
    const whole = await acme.client.get('/v1/hosts');
    assert.equal(whole.body.hosts.length, 7, 'default page size 100');
    assert.equal(whole.body.nextPageToken, undefined, 'no token after the last page');
    const exact = await acme.client.get('/v1/hosts?pageSize=7');
    assert.equal(exact.body.nextPageToken, undefined, 'a full last page has no next token');
    for (const bad of ['pageSize=0', 'pageSize=1001', 'pageSize=x', 'pageToken=garbage!', 'pageToken=eyJwIjoiMSJ9']) {
      expectError(await acme.client.get(`/v1/hosts?${bad}`), 400, 'VALIDATION_FAILED');
    }
  });

  it('pages a tenant\'s own fds, optionally on one host; another list\'s token is refused', async () => {
    const { items } = await allPages(acme.client, '/v1/fds', 'fds', 2);
    assert.deepEqual(new Set(items.map((f) => f.fdId)), new Set(acmeFds));
    assert.equal(items.length, acmeFds.length);
    const onHost = await allPages(acme.client, `/v1/fds?hostId=${hostIds[1]}`, 'fds', 1);
    assert.deepEqual(onHost.items.map((f) => f.hostId), [hostIds[1], hostIds[1]]);
    const all = await allPages(suite.app.operator, '/v1/fds', 'fds', 4);
    assert.equal(all.items.length, acmeFds.length + 1, 'the operator sees every tenant\'s');
    const hostsToken = (await acme.client.get('/v1/hosts?pageSize=1')).body.nextPageToken;
    expectError(await acme.client.get(`/v1/fds?pageToken=${hostsToken}`), 400, 'VALIDATION_FAILED');
  });

  it('pages over gRPC with page_size and page_token', async () => {
    const client = new IoasidClient(suite.app.started.grpcUrl!, acme.token);
    try {
      const first = await client.call('ListHosts', { pageSize: 4 });
      assert.equal(first.hosts.length, 4);
      const second = await client.call('ListHosts', { pageSize: 4, pageToken: first.nextPageToken });
      assert.deepEqual([...first.hosts, ...second.hosts].map((h: { hostId: string }) => h.hostId), [...hostIds].sort());
      assert.equal(second.nextPageToken, undefined);
      const fds = await client.call('ListFds', { pageSize: 10 });
      assert.equal(fds.fds.length, acmeFds.length);
      const error = await callError(client.call('ListFds', { pageToken: 'bm9wZQ' }));
      assert.equal(errorCodeOf(error).code, 'VALIDATION_FAILED');
    } finally {
      client.close();
    }
  });
});
