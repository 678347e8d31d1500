import { status } from '@grpc/grpc-js';
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { DataSource } from 'typeorm';
import { createTenant, expectError, expectStatus, TEST_OPERATOR_TOKEN, unique, useTestApp, type ApiClient } from '../support/app';
import { callError, errorCodeOf, IoasidClient } from '../grpc/grpc-client';

/** GET /v1/whoami and gRPC WhoAmI: whose token a call carries, on both transports of one started app. */
describe('whoami over REST and gRPC', () => {
  const suite = useTestApp({ validateResponses: true });
  let op: ApiClient;
  let tenant: { tenantId: string; name: string; token: string };
  let grpc: IoasidClient;

  before(async () => {
    op = suite.app.operator;
    const name = unique('acme');
    const created = await op.post('/v1/tenants', { name });
    expectStatus(created, 201);
    tenant = { tenantId: created.body.tenantId, name, token: created.body.token };
    grpc = new IoasidClient(suite.app.started.grpcUrl!, TEST_OPERATOR_TOKEN);
  });
  after(() => grpc?.close());

  it('REST: the operator, a tenant with its id and name, and 401 for a token of nobody', async () => {
    const asOperator = await op.get('/v1/whoami');
    expectStatus(asOperator, 200);
    assert.deepEqual(asOperator.body, { role: 'operator' });

    const asTenant = await op.as(tenant.token).get('/v1/whoami');
    expectStatus(asTenant, 200);
    assert.deepEqual(asTenant.body, { role: 'tenant', tenantId: tenant.tenantId, name: tenant.name });

    expectError(await op.as('iot_not-a-token').get('/v1/whoami'), 401, 'UNAUTHENTICATED');
    expectError(await op.as(undefined).get('/v1/whoami'), 401, 'UNAUTHENTICATED');
  });

  it('gRPC: the same answers, and UNAUTHENTICATED for a token of nobody', async () => {
    assert.deepEqual(await grpc.call('WhoAmI'), { role: 'operator' });
    const asTenant = grpc.as(tenant.token);
    try {
      assert.deepEqual(await asTenant.call('WhoAmI'), { role: 'tenant', tenantId: tenant.tenantId, name: tenant.name });
    } finally {
      asTenant.close();
    }

    for (const token of ['iot_not-a-token', null]) {
      const error = await callError(grpc.call('WhoAmI', {}, { token }));
      assert.equal(error.code, status.UNAUTHENTICATED);
      assert.equal(errorCodeOf(error).code, 'UNAUTHENTICATED');
    }
  });

  it('a token whose tenant is gone from the store (still remembered by the token cache): 401 UNAUTHENTICATED on both, not a 500', async () => {
    const gone = await createTenant(op);
    // A call remembers the token; then the row goes behind the service's back.
    expectStatus(await gone.client.get('/v1/whoami'), 200);
    await suite.app.started.app.get(DataSource).query('DELETE FROM tenants WHERE tenant_id = $1', [gone.tenantId]);

    expectError(await gone.client.get('/v1/whoami'), 401, 'UNAUTHENTICATED');
    const error = await callError(grpc.call('WhoAmI', {}, { token: gone.token }));
    assert.equal(error.code, status.UNAUTHENTICATED);
    assert.equal(errorCodeOf(error).code, 'UNAUTHENTICATED');
  });
});
