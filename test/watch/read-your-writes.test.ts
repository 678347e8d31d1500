import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createFd, createTenant, expectStatus, registerHost, startTestApp, useTestApp, type ApiClient, type TestApp } from '../support/app';

/**
 * Two API replicas on one database: every read, on either replica, reflects every command
 * acknowledged before it began, whichever replica acknowledged it. No waiting, no retries.
 */
describe('read-your-writes on every replica', () => {
  const suite = useTestApp();
  let second: TestApp;
  const VF = '0000:3b:00.1';

  before(async () => {
    second = await startTestApp(suite.backend.env);
  });
  after(async () => {
    await second?.close();
  });

  it('answers the fd, the host and the hardware at the head right after each write, on both replicas', async () => {
    const operators = [suite.app.operator, second.operator];
    const { token } = await createTenant(operators[0]);
    const tenants = operators.map((op) => op.as(token));
    const hostId = await registerHost(operators[1], { devices: [{ rid: VF, kind: 'vf' }] });
    const fdId = await createFd(tenants[1], hostId);
    const fd = `/v1/fds/${fdId}`;
    expectStatus(await tenants[0].put(`${fd}/hwid-mode`, { mode: 'local' }), 200);
    expectStatus(await tenants[1].post(`${fd}/ioasids`), 201);
    expectStatus(await tenants[0].post(`${fd}/ioasids/1/attachments`, { rid: VF }), 201);
    expectStatus(await tenants[1].put(`${fd}/ioasids/1/hwid`, { pasid: 5 }), 200);

    const readAll = async (reader: number): Promise<{ head: number; fd: any; hardware: any; events: any[] }> => {
      const op: ApiClient = operators[reader];
      const host = await op.get(`/v1/hosts/${hostId}`);
      expectStatus(host, 200);
      const view = await tenants[reader].get(fd);
      expectStatus(view, 200);
      const hardware = await op.get(`/v1/hosts/${hostId}/hardware`);
      expectStatus(hardware, 200);
      const events = await tenants[reader].get(`/v1/events?hostId=${hostId}&afterVersion=${host.body.version - 1}`);
      expectStatus(events, 200);
      return { head: host.body.version, fd: view.body, hardware: hardware.body, events: events.body.events };
    };

    for (let round = 0; round < 40; round++) {
      const writer = round % 2;
      // Half the rounds read on the replica that wrote, half on the other one.
      const reader = Math.floor(round / 2) % 2;
      const gpa = `0x${(round + 1).toString(16)}000`;
      const bound = await tenants[writer].put(`${fd}/ioasids/1/pgtable`, { gpa });
      expectStatus(bound, 200);
      let seen = await readAll(reader);
      assert.equal(seen.fd.ioasids[0].pgtableGpa, gpa, `round ${round}: the fd view has the bind`);
      assert.ok(seen.fd.version >= seen.head, `round ${round}: the fd is read at the head`);
      assert.equal(seen.hardware.version, seen.head, `round ${round}: the hardware is read at the head`);
      assert.equal(seen.hardware.rids[VF].pasids['5'].firstStageGpa, gpa, `round ${round}: the hardware has the bind`);
      assert.deepEqual(seen.events.map((e: { type: string }) => e.type), ['PgtableBound'], `round ${round}: the audit log has the bind`);

      expectStatus(await tenants[1 - writer].delete(`${fd}/ioasids/1/pgtable`), 204);
      seen = await readAll(1 - reader);
      assert.equal(seen.fd.ioasids[0].pgtableGpa, undefined, `round ${round}: the fd view has the unbind`);
      assert.equal(seen.hardware.version, seen.head, `round ${round}: the hardware is read at the head after the unbind`);
      assert.equal(seen.hardware.rids[VF].pasids['5']?.firstStageGpa, undefined, `round ${round}: the hardware has the unbind`);
    }

    expectStatus(await tenants[0].delete(fd), 204);
    expectStatus(await tenants[1].get(fd), 404);
    const hardware = await operators[1].get(`/v1/hosts/${hostId}/hardware`);
    assert.deepEqual(hardware.body.rids[VF]?.pasids ?? {}, {}, 'the close is in the hardware at once');
  });
});
