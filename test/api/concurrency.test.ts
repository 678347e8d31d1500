import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createFd, createTenant, expectStatus, readUntil, registerHost, useTestApp } from '../support/app';

/** Concurrent writers on one host: every global PASID is decided once, whatever the interleaving (I1). */
describe('REST under concurrency', () => {
  const suite = useTestApp({ validateResponses: true });

  it('gives 50 concurrent set-hwid calls in global mode 50 distinct global PASIDs', async () => {
    const op = suite.app.operator;
    const { client } = await createTenant(op);
    const vms = 5;
    const perVm = 10;
    const rids = Array.from({ length: vms }, (_, i) => `0000:3b:00.${i}`);
    const hostId = await registerHost(op, { devices: rids.map((rid) => ({ rid, kind: 'vf' as const })) });

    const ioasids: Array<{ fdPath: string; ioasid: number; pasid: number }> = [];
    for (const rid of rids) {
      const fdPath = `/v1/fds/${await createFd(client, hostId)}`;
      expectStatus(await client.put(`${fdPath}/hwid-mode`, { mode: 'global' }), 200);
      expectStatus(await client.put(`${fdPath}/global-min`, { globalMin: 1024 }), 200);
      for (let pasid = 1; pasid <= perVm; pasid++) {
        const alloc = await client.post(`${fdPath}/ioasids`);
        expectStatus(alloc, 201);
        expectStatus(await client.post(`${fdPath}/ioasids/${alloc.body.ioasid}/attachments`, { rid }), 201);
        ioasids.push({ fdPath, ioasid: alloc.body.ioasid, pasid });
      }
    }

    const answers = await Promise.all(ioasids.map(({ fdPath, ioasid, pasid }) => client.put(`${fdPath}/ioasids/${ioasid}/hwid`, { pasid })));
    for (const res of answers) expectStatus(res, 200);
    const globals = answers.map((res) => res.body.globalPasid as number);
    assert.equal(new Set(globals).size, vms * perVm);
    for (const g of globals) assert.ok(g >= 1024 && g < 2 ** 20, `global PASID ${g} in [1024, 2^20)`);

    // The write model and the hardware projection agree on the outcome.
    const events = await op.get(`/v1/events?hostId=${hostId}&type=HwidSet&pageSize=1000`);
    assert.deepEqual(
      events.body.events.map((e: { data: { globalPasid: number } }) => e.data.globalPasid).sort(),
      [...globals].sort(),
    );
    const head = (await op.get(`/v1/events?hostId=${hostId}&pageSize=1000`)).body.events.at(-1).version;
    const hardware = await readUntil(() => op.get(`/v1/hosts/${hostId}/hardware`), (r) => r.status === 200 && r.body.version === head);
    assert.equal(hardware.body.version, head);
    const verify = await op.get(`/v1/hosts/${hostId}/verify`);
    assert.equal(verify.body.ok, true);
  });
});
