import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { TenantQuotas } from '../../src/application/tenant-quotas';
import { OPERATOR } from '../../src/application/principal';
import { DomainError } from '../../src/model';
import { metaOf, registerHost, run, startApplicationContext, type ApplicationContext } from '../support/application-context';
import { createTestStorage, type TestStorage } from '../support/test-storage';

describe('tenant quotas: a cache bounded by HOST_CACHE_MB', () => {
  /** 1/64 of it is about 650 bytes for quotas: two tenants' at a time. */
  const TINY_CACHE_MB = 0.04;
  const TENANTS = 8;
  let storage: TestStorage;
  let ctx: ApplicationContext;

  before(async () => {
    storage = await createTestStorage('postgres');
    ctx = await startApplicationContext(storage, { role: 'api', hostCacheMb: TINY_CACHE_MB });
  });
  after(async () => {
    await ctx?.close();
    await storage?.dispose();
  });

  it('many tenants whose commands wait together for one host each decide on their own quotas', async () => {
    const hostId = 'quota-host';
    await registerHost(ctx, hostId);
    // Tenant i may hold i + 1 fds on the host.
    const tenants: string[] = [];
    for (let i = 0; i < TENANTS; i++) {
      const created = (await ctx.tenants.create(`quota-tenant-${i}`, { maxFds: i + 1 }, metaOf(OPERATOR))) as { tenantId: string };
      tenants.push(created.tenantId);
    }
    // Every tenant's creates, interleaved and all at once: each loads its quotas, then waits for the host's lock
    // while the others' loads push it out of the cache.
    const creates = Array.from({ length: TENANTS + 1 }, (_, round) => tenants.map((tenantId, i) => ({ tenantId, i, fdId: `quota-fd-${i}-${round}` }))).flat();
    const outcomes = await Promise.all(
      creates.map(({ tenantId, i, fdId }) =>
        run(ctx, { type: 'CreateFd', fdId, tenantId, vmId: `vm-${fdId}` }, { hostId }).then(
          () => ({ i, outcome: 'created' }),
          (e: unknown) => ({ i, outcome: e instanceof DomainError ? e.code : String(e) }),
        ),
      ),
    );
    for (let i = 0; i < TENANTS; i++) {
      // Sorted: a tenant's creates may take the lock in another order than they were sent.
      const mine = outcomes.filter((o) => o.i === i).map((o) => o.outcome).sort();
      assert.deepEqual(mine, [...Array<string>(i + 1).fill('created'), ...Array<string>(TENANTS - i).fill('QUOTA_EXCEEDED')].sort(), `tenant ${i}`);
    }
    assert.ok(ctx.app.get(TenantQuotas).cacheUsage.tenants < TENANTS, `${ctx.app.get(TenantQuotas).cacheUsage.tenants} tenants held`);
  });
});
