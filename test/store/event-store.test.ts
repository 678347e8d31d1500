import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { GENESIS_HASH, envelopeHash, eventOf, type EventEnvelope } from '../../src/model/envelope';
import type { EventOf, HostEvent } from '../../src/model/events';
import { IdempotencyKeyTaken } from '../../src/store/append-request';
import { openDatabase, type Database } from '../../src/store/database';
import { EventStore } from '../../src/store/event-store';
import { FdDirectory } from '../../src/store/fd-directory';
import { HostDirectory } from '../../src/store/host-directory';
import { IdempotencyStore } from '../../src/store/idempotency-store';
import { SnapshotStore } from '../../src/store/snapshot-store';
import { isCode } from '../support/domain-errors';
import { appendOf, fdClosed, fdCreated, hostRegistered, ioasidAllocated } from '../support/host-events';
import { TcpProxy } from '../support/tcp-proxy';
import { createTestStorage, type TestStorage } from '../support/test-storage';

function assertValidChain(events: EventEnvelope[]): void {
  let prev = GENESIS_HASH;
  events.forEach((e, i) => {
    assert.equal(e.version, i + 1, 'versions run 1, 2, 3... without gaps');
    assert.equal(e.prevHash, prev, `prevHash of version ${e.version}`);
    assert.equal(envelopeHash(e), e.hash, `hash of version ${e.version}`);
    prev = e.hash;
  });
}

async function readAll(store: EventStore, hostId: string): Promise<EventEnvelope[]> {
  const all: EventEnvelope[] = [];
  for await (const batch of store.stream(hostId, { batchSize: 7 })) all.push(...batch);
  return all;
}

for (const kind of ['postgres', 'pglite'] as const) {
  describe(`event store on ${kind}`, () => {
    let storage: TestStorage;
    let db: Database;
    let store: EventStore;
    let hosts: HostDirectory;

    before(async () => {
      storage = await createTestStorage(kind);
      db = await openDatabase(storage);
      store = new EventStore(db.dataSource);
      hosts = new HostDirectory(db.dataSource);
    });
    after(async () => {
      await db?.close();
      await storage?.dispose();
    });

    it('appends and reads back a stream with contiguous versions and a valid hash chain', async () => {
      const first = await store.append(appendOf('h-basic', 0, [hostRegistered('h-basic')]));
      assert.deepEqual(first.map((e) => e.version), [1]);
      const next = await store.append(
        appendOf('h-basic', 1, [fdCreated('fd-b1', 't1'), ioasidAllocated('fd-b1', 1), ioasidAllocated('fd-b1', 2)], { tenantId: 't1' }),
      );
      assert.deepEqual(next.map((e) => e.version), [2, 3, 4]);
      assert.equal(next[0].prevHash, first[0].hash);

      const stored = await readAll(store, 'h-basic');
      assert.deepEqual(stored, [...first, ...next], 'the store gives back exactly the envelopes it acknowledged');
      assertValidChain(stored);
      assert.equal(stored[1].tenantId, 't1');
      assert.equal('tenantId' in stored[0], false, 'a host-level event has no tenant');
      assert.equal(await hosts.headVersion('h-basic'), 4);
      assert.equal((await hosts.get('h-basic'))?.host.pasidBits, 20);
      assert.deepEqual((await store.read('h-basic', 1, 3)).map((e) => e.version), [2, 3]);
    });

    it("keeps the host's description as the last append that carried one left it, and writes none when the append is stale", async () => {
      const registered = hostRegistered('h-spec') as EventOf<'HostRegistered'>;
      await store.append(appendOf('h-spec', 0, [registered]));
      await store.append(appendOf('h-spec', 1, [fdCreated('fd-h1', 't1')]));
      assert.deepEqual((await hosts.get('h-spec'))?.host, registered.data, 'an append without a host keeps the stored one');
      const cordoned = { ...registered.data, cordoned: true as const };
      await store.append(appendOf('h-spec', 2, [{ type: 'HostCordoned', data: { hostId: 'h-spec' } }], { host: cordoned }));
      assert.deepEqual(await hosts.get('h-spec'), { hostId: 'h-spec', version: 3, host: cordoned });
      await assert.rejects(
        store.append(appendOf('h-spec', 2, [{ type: 'HostDecommissioned', data: { hostId: 'h-spec' } }], { host: { ...cordoned, decommissioned: true } })),
        isCode('VERSION_CONFLICT'),
      );
      assert.deepEqual((await hosts.list()).find((h) => h.hostId === 'h-spec')?.host, cordoned, 'a stale append changes nothing');
    });

    it('refuses an append whose expected version is stale and writes nothing', async () => {
      await store.append(appendOf('h-stale', 0, [hostRegistered('h-stale')]));
      await assert.rejects(store.append(appendOf('h-stale', 0, [hostRegistered('h-stale')])), isCode('VERSION_CONFLICT'));
      await store.append(appendOf('h-stale', 1, [fdCreated('fd-s1', 't1')]));
      await assert.rejects(store.append(appendOf('h-stale', 1, [fdCreated('fd-s2', 't1')])), isCode('VERSION_CONFLICT'));
      const stored = await readAll(store, 'h-stale');
      assert.equal(stored.length, 2);
      assertValidChain(stored);
      assert.equal(await new FdDirectory(db.dataSource).find('fd-s2'), undefined, 'the refused fd is not in the directory');
    });

    it('fails only the stale append of a group commit; the others of the batch commit', async () => {
      for (const h of ['h-g1', 'h-g2', 'h-g3']) await store.append(appendOf(h, 0, [hostRegistered(h)]));
      // Queued in one tick: they share a transaction.
      const results = await Promise.allSettled([
        store.append(appendOf('h-g1', 1, [ioasidAllocated('fd-x', 1)])),
        store.append(appendOf('h-g2', 0, [ioasidAllocated('fd-x', 1)])),
        store.append(appendOf('h-g3', 1, [ioasidAllocated('fd-x', 1)])),
      ]);
      assert.equal(results[0].status, 'fulfilled');
      assert.equal(results[1].status, 'rejected');
      assert.ok(isCode('VERSION_CONFLICT')((results[1] as PromiseRejectedResult).reason));
      assert.equal(results[2].status, 'fulfilled');
      assert.equal(await hosts.headVersion('h-g1'), 2);
      assert.equal(await hosts.headVersion('h-g2'), 1);
      assert.equal(await hosts.headVersion('h-g3'), 2);
    });

    it('fails only the append that hits an event row written behind the head row\'s back', async () => {
      for (const h of ['h-rogue', 'h-fine', 'h-first']) await store.append(appendOf(h, 0, [hostRegistered(h)]));
      // A row at version 2 that the hosts table does not know of: the head move passes, the insert collides.
      await db.dataSource.query(
        `INSERT INTO events (host_id, version, event_id, type, schema_version, data, actor, command_id, correlation_id, occurred_at, prev_hash, hash)
         VALUES ('h-rogue', 2, gen_random_uuid(), 'IoasidAllocated', 1, '{}', 'operator', 'x', 'x', now(), 'x', 'x')`,
      );
      // The first append takes the committer; the other two wait and share the next batch.
      const [, rogue, fine] = await Promise.allSettled([
        store.append(appendOf('h-first', 1, [ioasidAllocated('fd-1', 1)])),
        store.append(appendOf('h-rogue', 1, [ioasidAllocated('fd-r', 1)])),
        store.append(appendOf('h-fine', 1, [ioasidAllocated('fd-f', 1)])),
      ]);
      assert.ok(rogue.status === 'rejected' && isCode('VERSION_CONFLICT')(rogue.reason));
      assert.equal(fine.status, 'fulfilled');
      assert.equal(await hosts.headVersion('h-rogue'), 1, 'the failed append moved no head');
      assert.equal(await hosts.headVersion('h-fine'), 2);
    });

    it('groups appends that arrive while a transaction is in flight into one transaction', async () => {
      const ids = Array.from({ length: 8 }, (_, i) => `h-batch-${i}`);
      let commits = 0;
      const stop = store.onCommit(() => commits++);
      try {
        await Promise.all(ids.map((h) => store.append(appendOf(h, 0, [hostRegistered(h)]))));
      } finally {
        stop();
      }
      for (const h of ids) assert.equal(await hosts.headVersion(h), 1);
      assert.ok(commits < ids.length, `8 appends took ${commits} transactions`);
    });

    it('lands every one of many concurrent appends over several hosts, none duplicated, versions contiguous', async () => {
      const hostIds = Array.from({ length: 6 }, (_, i) => `h-many-${i}`);
      for (const h of hostIds) await store.append(appendOf(h, 0, [hostRegistered(h)]));
      const writersPerHost = 6;
      const appendsPerWriter = 5;
      const acknowledged: string[] = [];
      const writer = async (hostId: string, w: number) => {
        for (let n = 0; n < appendsPerWriter; n++) {
          const commandId = `${hostId}/w${w}/n${n}`;
          for (;;) {
            const head = await hosts.headVersion(hostId);
            try {
              await store.append(appendOf(hostId, head, [ioasidAllocated(`fd-${w}`, n + 1)], { commandId }));
              acknowledged.push(commandId);
              break;
            } catch (e) {
              if (!isCode('VERSION_CONFLICT')(e)) throw e;
            }
          }
        }
      };
      await Promise.all(hostIds.flatMap((h) => Array.from({ length: writersPerHost }, (_, w) => writer(h, w))));

      assert.equal(acknowledged.length, hostIds.length * writersPerHost * appendsPerWriter);
      for (const h of hostIds) {
        const stored = await readAll(store, h);
        assertValidChain(stored);
        const commandIds = stored.slice(1).map((e) => e.commandId);
        assert.equal(commandIds.length, writersPerHost * appendsPerWriter, `every acknowledged append of ${h} is stored`);
        assert.equal(new Set(commandIds).size, commandIds.length, `no append of ${h} is stored twice`);
        assert.deepEqual(new Set(commandIds), new Set(acknowledged.filter((c) => c.startsWith(`${h}/`))));
      }
    });

    it('stores the idempotency record with the events; a concurrent repeat of the key appends nothing', async () => {
      const idem = new IdempotencyStore(db.dataSource);
      await store.append(appendOf('h-idem', 0, [hostRegistered('h-idem')]));
      const record = { scope: 't1', key: 'k-1', fingerprint: 'fp-1', body: { ioasid: 1 } };
      await store.append(appendOf('h-idem', 1, [ioasidAllocated('fd-i', 1)], { idempotency: record }));
      assert.deepEqual(await idem.find('t1', 'k-1'), { fingerprint: 'fp-1', body: { ioasid: 1 } });
      assert.equal(await idem.find('t2', 'k-1'), undefined, 'keys are per tenant');

      await assert.rejects(
        store.append(appendOf('h-idem', 2, [ioasidAllocated('fd-i', 2)], { idempotency: { ...record, fingerprint: 'fp-2' } })),
        (e) => e instanceof IdempotencyKeyTaken,
      );
      assert.equal(await hosts.headVersion('h-idem'), 2, 'the losing append wrote no event');
      assert.deepEqual((await idem.find('t1', 'k-1'))?.fingerprint, 'fp-1');

      // A record older than 24 hours no longer answers, and its key may be used again.
      await db.dataSource.query(`UPDATE idempotency SET created_at = now() - interval '25 hours' WHERE scope = 't1' AND key = 'k-1'`);
      assert.equal(await idem.find('t1', 'k-1'), undefined);
      await store.append(appendOf('h-idem', 2, [ioasidAllocated('fd-i', 2)], { idempotency: { ...record, fingerprint: 'fp-3' } }));
      assert.equal((await idem.find('t1', 'k-1'))?.fingerprint, 'fp-3');

      // An answer without events (204) is stored too.
      const empty = await store.append(appendOf('h-idem', 3, [], { idempotency: { scope: 'operator', key: 'k-2', fingerprint: 'f', body: undefined } }));
      assert.deepEqual(empty, []);
      assert.deepEqual(await idem.find('operator', 'k-2'), { fingerprint: 'f', body: undefined });
    });

    it('keeps the fd directory in the transaction of the events that open and close fds', async () => {
      const fds = new FdDirectory(db.dataSource);
      await store.append(appendOf('h-fd', 0, [hostRegistered('h-fd'), fdCreated('fd-d1', 'ten-a', 'vm-1'), fdCreated('fd-d2', 'ten-b', 'vm-2')]));
      assert.deepEqual(await fds.find('fd-d1'), { fdId: 'fd-d1', hostId: 'h-fd', tenantId: 'ten-a', vmId: 'vm-1', open: true });
      await store.append(appendOf('h-fd', 3, [fdClosed('fd-d1')]));
      assert.equal((await fds.find('fd-d1'))?.open, false);
      assert.deepEqual((await fds.listOpen({ hostId: 'h-fd' })).map((f) => f.fdId), ['fd-d2']);
      assert.deepEqual((await fds.listOpen({ tenantId: 'ten-a' })).map((f) => f.fdId), []);
    });

    it('lists the audit log with filters, opaque page tokens and tenant scoping', async () => {
      await store.append(appendOf('h-audit', 0, [hostRegistered('h-audit')]));
      for (let i = 1; i <= 5; i++) {
        const tenantId = i % 2 ? 'aud-a' : 'aud-b';
        await store.append(appendOf('h-audit', i, [fdCreated(`fd-aud-${i}`, tenantId)], { tenantId }));
      }
      const pages: EventEnvelope[][] = [];
      let token: string | undefined;
      do {
        const page = await store.list({ hostId: 'h-audit', pageSize: 2, pageToken: token });
        pages.push(page.events);
        token = page.nextPageToken;
      } while (token);
      assert.deepEqual(pages.map((p) => p.length), [2, 2, 2]);
      assert.deepEqual(pages.flat().map((e) => e.version), [1, 2, 3, 4, 5, 6]);

      const tenantA = await store.list({ hostId: 'h-audit', tenantId: 'aud-a' });
      assert.deepEqual(tenantA.events.map((e) => e.data), [1, 3, 5].map((i) => fdCreated(`fd-aud-${i}`, 'aud-a').data));
      assert.equal(tenantA.nextPageToken, undefined);
      assert.deepEqual((await store.list({ fdId: 'fd-aud-4' })).events.map((e) => e.version), [5]);
      assert.deepEqual((await store.list({ hostId: 'h-audit', type: 'HostRegistered' })).events.map((e) => e.version), [1]);
      assert.deepEqual((await store.list({ hostId: 'h-audit', afterVersion: 4 })).events.map((e) => e.version), [5, 6]);
      assert.equal((await store.list({ hostId: 'h-audit', since: new Date(Date.now() + 60_000) })).events.length, 0);
      await assert.rejects(store.list({ pageToken: 'not-a-token' }), isCode('VALIDATION_FAILED'));
    });

    it("takes positions in version order within each append of several events, among other hosts' appends of the same batch", async () => {
      const ids = Array.from({ length: 8 }, (_, i) => `h-order-${i}`);
      await Promise.all(ids.map((h) => store.append(appendOf(h, 0, [hostRegistered(h), ...Array.from({ length: 6 }, (_, v) => fdCreated(`fd-${h}-${v}`, 'ten-o'))]))));
      for (const h of ids) {
        const rows: Array<{ version: number; position: string }> = await db.dataSource.query('SELECT version, position FROM events WHERE host_id = $1 ORDER BY position', [h]);
        assert.deepEqual(rows.map((r) => r.version), [1, 2, 3, 4, 5, 6, 7], `positions of ${h} follow its versions`);
      }
    });

    it("pages one host's events in commit order among other hosts' appends, from any page token", async () => {
      // Two hosts appended alternately, the second's appends grouped with the first's.
      await Promise.all(['h-pa', 'h-pb'].map((h) => store.append(appendOf(h, 0, [hostRegistered(h)]))));
      for (let v = 1; v <= 6; v++) {
        await Promise.all(['h-pa', 'h-pb'].map((h) => store.append(appendOf(h, v, [fdCreated(`fd-${h}-${v}`, 'ten-p')]))));
      }
      const positions = async (hostId: string): Promise<Array<{ version: number; position: bigint }>> =>
        (await db.dataSource.query('SELECT version, position FROM events WHERE host_id = $1 ORDER BY version', [hostId])).map(
          (r: { version: number; position: string }) => ({ version: r.version, position: BigInt(r.position) }),
        );
      const all = await positions('h-pa');
      assert.deepEqual(all.map((e) => e.version), [1, 2, 3, 4, 5, 6, 7]);
      assert.ok(all.every((e, i) => i === 0 || e.position > all[i - 1]!.position), 'positions follow versions within a host');
      const paged: number[] = [];
      let token: string | undefined;
      do {
        const page = await store.list({ hostId: 'h-pa', pageSize: 3, pageToken: token });
        paged.push(...page.events.map((e) => e.version));
        token = page.nextPageToken;
      } while (token);
      assert.deepEqual(paged, [1, 2, 3, 4, 5, 6, 7]);
      // A token of a page of the other host: h-pa's events after that position.
      const other = await store.list({ hostId: 'h-pb', pageSize: 3 });
      const otherLast = (await positions('h-pb'))[2]!.position;
      const fromOther = await store.list({ hostId: 'h-pa', pageToken: other.nextPageToken });
      assert.deepEqual(
        fromOther.events.map((e) => e.version),
        all.filter((e) => e.position > otherLast).map((e) => e.version),
      );
      assert.ok(fromOther.events.length > 0 && fromOther.events.length < all.length, 'the token falls among h-pa\'s events');
    });

    it('reads a stream up to a version or a time', async () => {
      const before = new Date(Date.now() - 1000);
      assert.equal(await store.versionAt('h-audit', before), 0);
      assert.equal(await store.versionAt('h-audit', new Date()), 6);
      const upTo3: EventEnvelope[] = [];
      for await (const batch of store.stream('h-audit', { toVersion: 3, batchSize: 2 })) upTo3.push(...batch);
      assert.deepEqual(upTo3.map((e) => e.version), [1, 2, 3]);
    });

    it('finds the last version at or before a time when replicas clocks disagree (occurred_at not in version order)', async () => {
      await store.append(appendOf('h-clocks', 0, [hostRegistered('h-clocks')]));
      for (let v = 1; v <= 4; v++) await store.append(appendOf('h-clocks', v, [fdCreated(`fd-clk-${v}`, 'ten-clk')]));
      // Versions 1..5 at minutes 10, 30, 20, 40, 35 past the hour: a replica behind wrote 3 and 5.
      const minutes = [10, 30, 20, 40, 35];
      const at = (minute: number) => new Date(Date.UTC(2026, 0, 1, 12, minute));
      for (const [i, minute] of minutes.entries()) {
        await db.dataSource.query('UPDATE events SET occurred_at = $3 WHERE host_id = $1 AND version = $2', ['h-clocks', i + 1, at(minute).toISOString()]);
      }
      assert.deepEqual(
        await Promise.all([5, 10, 15, 25, 30, 36, 45].map((minute) => store.versionAt('h-clocks', at(minute)))),
        [0, 1, 1, 3, 3, 5, 5],
      );
    });

    it('streams the domain events alone exactly as the envelopes carry them, in the same ranges and batches', async () => {
      // Text that JSON must escape, in the data and the tenant: the events come back composed by PostgreSQL, not as written.
      const tenantId = 'esc "\\ \u00e9\u2028 t';
      await store.append(appendOf('h-events', 0, [hostRegistered('h-events')]));
      await store.append(appendOf('h-events', 1, [fdCreated('fd-e"1\\', tenantId, 'vm \n\u0001 \ud83d\ude00'), ioasidAllocated('fd-e"1\\', 1), fdClosed('fd-e"1\\')], { tenantId }));
      const collect = async <T>(batches: AsyncGenerator<T[]>) => {
        const sizes: number[] = [];
        const all: T[] = [];
        for await (const batch of batches) {
          sizes.push(batch.length);
          all.push(...batch);
        }
        return { sizes, all };
      };
      for (const range of [{}, { batchSize: 3 }, { afterVersion: 1, toVersion: 3, batchSize: 1 }, { afterVersion: 4 }]) {
        const envelopes = await collect(store.stream('h-events', range));
        const events = await collect(store.streamEvents('h-events', range));
        assert.deepEqual(events, { sizes: envelopes.sizes, all: envelopes.all.map(eventOf) }, JSON.stringify(range));
      }
      const none: HostEvent[] = [];
      for await (const batch of store.streamEvents('h-none')) none.push(...batch);
      assert.deepEqual(none, []);
    });

    it('reads where a load starts: the latest snapshot and the domain events after it, at most a batch', async () => {
      const snapshots = new SnapshotStore(db.dataSource);
      const events = [hostRegistered('h-start'), fdCreated('fd-s1', 't1'), ioasidAllocated('fd-s1', 1), ioasidAllocated('fd-s1', 2), ioasidAllocated('fd-s1', 3)];
      assert.deepEqual(await snapshots.latestWithEvents('h-start'), { events: [] }, 'an unknown host');
      await store.append(appendOf('h-start', 0, events));
      assert.deepEqual(await snapshots.latestWithEvents('h-start'), { events });
      assert.deepEqual(await snapshots.latestWithEvents('h-start', 2), { events: events.slice(0, 2) });
      await snapshots.save('h-start', 2, JSON.stringify({ a: 'state "at" 2' }));
      await snapshots.save('h-start', 3, JSON.stringify({ a: 'state at 3' }));
      assert.deepEqual(await snapshots.latestWithEvents('h-start'), { snapshot: { version: 3, state: { a: 'state at 3' } }, events: events.slice(3) });
      assert.deepEqual(await snapshots.latestWithEvents('h-start', 1), { snapshot: { version: 3, state: { a: 'state at 3' } }, events: events.slice(3, 4) });
      await snapshots.save('h-start', 5, JSON.stringify({ a: 'state at 5' }));
      assert.deepEqual(await snapshots.latestWithEvents('h-start'), { snapshot: { version: 5, state: { a: 'state at 5' } }, events: [] });
    });

    it('gives back the same streams after a restart and continues their hash chains', async () => {
      const beforeRestart = await readAll(store, 'h-basic');
      await db.close();
      db = await openDatabase(storage);
      store = new EventStore(db.dataSource);
      hosts = new HostDirectory(db.dataSource);
      assert.deepEqual(await readAll(store, 'h-basic'), beforeRestart);
      await store.append(appendOf('h-basic', 4, [ioasidAllocated('fd-b1', 3)], { tenantId: 't1' }));
      assertValidChain(await readAll(store, 'h-basic'));
    });

    if (kind === 'postgres') {
      it('answers UNAVAILABLE when the connection to PostgreSQL is cut', async () => {
        const url = new URL(storage.databaseUrl!);
        const proxy = await TcpProxy.start({ host: url.hostname, port: Number(url.port || 5432) });
        url.port = String(proxy.port);
        const viaProxy = await openDatabase({ databaseUrl: url.toString(), dataDir: storage.dataDir, runMigrations: false, poolSize: 2 });
        try {
          const cutStore = new EventStore(viaProxy.dataSource);
          assert.equal((await cutStore.read('h-basic', 0)).length, 5);
          await proxy.cut();
          await assert.rejects(cutStore.append(appendOf('h-basic', 5, [ioasidAllocated('fd-b1', 4)])), isCode('UNAVAILABLE'));
          await assert.rejects(cutStore.read('h-basic', 0), isCode('UNAVAILABLE'));
          await assert.rejects(new HostDirectory(viaProxy.dataSource).list(), isCode('UNAVAILABLE'));
        } finally {
          await proxy.cut();
          await viaProxy.close();
        }
        assert.equal(await hosts.headVersion('h-basic'), 5, 'nothing was written through the cut connection');
      });
    }

    it('answers UNAVAILABLE once the database is closed', async () => {
      await db.close();
      await assert.rejects(store.append(appendOf('h-basic', 5, [ioasidAllocated('fd-b1', 4)])), isCode('UNAVAILABLE'));
      await assert.rejects(store.list({}), isCode('UNAVAILABLE'));
    });
  });
}
