import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { MIGRATIONS } from '../../migrations';
import { createFd, createTenant, expectStatus, readUntil, registerHost, startTestApp, type TestApp } from '../support/app';
import { lines, runNode } from '../support/node-process';
import { startPgBouncer, type PgBouncer } from '../support/pgbouncer';
import { createTestDatabase, type TestDatabase } from '../support/postgres';

const NAMES = MIGRATIONS.map((m) => new m().name);

/** Starts `n` migration commands at once through `url`; exactly one must have applied every migration. */
async function migrateConcurrently(url: string, n: number): Promise<void> {
  const runs = await Promise.all(Array.from({ length: n }, () => runNode('dist/src/migrate.js', { DATABASE_URL: url })));
  for (const run of runs) assert.equal(run.code, 0, run.stdout + run.stderr);
  const applied = runs.map((r) => lines(r.stdout).map((l) => JSON.parse(l)).find((l) => l.msg === 'schema is up to date').applied as string[]);
  assert.equal(applied.filter((a) => a.length > 0).length, 1, JSON.stringify(applied));
  assert.deepEqual(applied.flat(), NAMES);
}

/**
 * deploy/README.md "Connections": which PgBouncer pooling mode serves what. Migrations keep no
 * session state (their lock is the transaction's), so they work in transaction mode; the
 * group commit's one named prepared statement needs session mode (or PgBouncer 1.21+ with
 * max_prepared_statements in transaction mode, which this machine's 1.18 cannot show).
 */
describe('behind PgBouncer', () => {
  const open: Array<{ stop(): Promise<void> } | { drop(): Promise<void> }> = [];
  let app: TestApp | undefined;
  after(async () => {
    await app?.close();
    for (const o of open.reverse()) await ('stop' in o ? o.stop() : o.drop());
  });

  it("transaction mode: several migration commands at once, one migrates (the advisory lock is the transaction's)", async () => {
    const bouncer = await startPgBouncer({ poolMode: 'transaction', poolSize: 2 });
    open.push(bouncer);
    const db = await createTestDatabase('ioasid_bouncer');
    open.push(db);
    await migrateConcurrently(bouncer.via(db.url), 3);
  });

  it('session mode: migrations, then concurrent commands on several hosts with idempotency, verified', async () => {
    const bouncer: PgBouncer = await startPgBouncer({ poolMode: 'session', poolSize: 10 });
    open.push(bouncer);
    const db: TestDatabase = await createTestDatabase('ioasid_bouncer');
    open.push(db);
    await migrateConcurrently(bouncer.via(db.url), 3);
    app = await startTestApp({ DATABASE_URL: bouncer.via(db.url), RUN_MIGRATIONS: 'false', DATABASE_POOL_SIZE: '8' });
    const op = app.operator;
    expectStatus(await readUntil(() => op.get('/readyz'), (r) => r.status === 200), 200);
    const tenant = await createTenant(op);
    const hosts = await Promise.all(Array.from({ length: 4 }, () => registerHost(op, { devices: [{ rid: '0000:3b:00.1', kind: 'vf' }] })));
    await Promise.all(hosts.flatMap((hostId) => Array.from({ length: 5 }, () => createFd(tenant.client, hostId))));
    const repeat = () => tenant.client.post('/v1/fds', { hostId: hosts[0], vmId: 'vm-bounced' }, { headers: { 'idempotency-key': 'bounced-1' } });
    const [first, second] = [await repeat(), await repeat()];
    expectStatus(first, 201);
    assert.deepEqual(second.body, first.body, 'the idempotency record answers the repeat');
    for (const hostId of hosts) {
      const verify = await op.get(`/v1/hosts/${hostId}/verify`);
      expectStatus(verify, 200);
      assert.deepEqual([verify.body.ok, verify.body.version], [true, hostId === hosts[0] ? 7 : 6], JSON.stringify(verify.body));
    }
  });
});
