import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { EventStore } from '../../src/store/event-store';
import { openScratchDatabase, type ScratchDatabase } from '../support/postgres';
import { storeProjection } from '../replay/projection-row';
import { runScenario, ScenarioHost } from '../replay/scenario';
import { tamper } from '../replay/tamper-sql';
import { ioasidctl } from './run-cli';

describe('ioasidctl replay --verify on a tampered database', () => {
  let db: ScratchDatabase;

  before(async () => {
    db = await openScratchDatabase();
    const store = new EventStore(db.dataSource);
    const hosts = ['edited', 'deleted', 'swapped'].map((h) => new ScenarioHost(h, store));
    await Promise.all(hosts.map((h) => runScenario(h)));
    for (const h of hosts) await storeProjection(db.dataSource, h.hostId, h.state);
    await tamper.editData(db.dataSource, 'edited', 9);
    await tamper.deleteRow(db.dataSource, 'deleted', 14);
    await tamper.swapRows(db.dataSource, 'swapped', 3, 4);
  });
  after(async () => {
    await db?.close();
  });

  for (const [hostId, bad] of [
    ['edited', 9],
    ['deleted', 14],
    ['swapped', 3],
  ] as const) {
    it(`${hostId} row: exit 1, naming version ${bad}`, async () => {
      const run = await ioasidctl(['replay', '--host', hostId, '--verify'], { DATABASE_URL: db.url });
      assert.equal(run.code, 1, run.stderr);
      assert.match(run.stdout, new RegExp(`^Verification: FAILED at version ${bad}: `));
      assert.match(run.stderr, new RegExp(`^ioasidctl: verification failed: first bad version ${bad}: [^\\n]+\\n$`));

      const json = await ioasidctl(['replay', '--host', hostId, '--verify', '--json'], { DATABASE_URL: db.url });
      assert.equal(json.code, 1);
      const line = JSON.parse(json.stdout) as { version: number; verify: { ok: boolean; firstBadVersion: number } };
      assert.deepEqual([line.verify.ok, line.verify.firstBadVersion, line.version], [false, bad, bad - 1]);

      const plain = await ioasidctl(['replay', '--host', hostId], { DATABASE_URL: db.url });
      assert.equal(plain.code, 1, 'a plain replay refuses a broken log too');
      assert.match(plain.stderr, new RegExp(`broken at version ${bad}`));
    });
  }
});
