import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createTenant, expectStatus, useTestApp, type TenantHandle } from '../support/app';
import { assertCleanSession, sessionHeader, useConsoleBrowser } from '../support/browser';
import { DEVICE_MAP, enqcmdVm, registerSource, registerTarget } from '../migration/migration-fixtures';

/** A tenant's console: its own fds, their events and migrations; nothing of another tenant; operator pages refused. */
describe('console: a tenant', () => {
  const suite = useTestApp();
  const b = useConsoleBrowser(() => suite.app.url);
  let acme: TenantHandle;
  let globex: TenantHandle;
  let source: string;
  let otherFd: string;
  let migrated: { migrationId: string; targetFdId: string };

  it('lands on its own fds: each with its ioasids, hwids, attachments, KVM mappings and migratable state', async () => {
    const op = suite.app.operator;
    acme = await createTenant(op);
    globex = await createTenant(op);
    source = await registerSource(op);
    const target = await registerTarget(op);
    const moving = await enqcmdVm(acme.client, source);
    // A vf serves one fd: the other VMs run on hosts of their own.
    await enqcmdVm(acme.client, await registerSource(op));
    otherFd = await enqcmdVm(globex.client, await registerSource(op));
    const migration = await acme.client.post(`/v1/fds/${moving}/migrations`, { targetHostId: target, deviceMap: DEVICE_MAP });
    expectStatus(migration, 201);
    migrated = migration.body;

    await b.open(`/ui/#token=${acme.token}`);
    await b.page.waitForURL('**/ui/fds');
    // The header names the tenant and offers only its own pages (the hosts pages are the operator's).
    assert.deepEqual(await sessionHeader(b.page), { who: `Signed in as ${acme.name}`, role: 'tenant', nav: ['Fds'] });
    const own = (await acme.client.get('/v1/fds')).body.fds as Array<any>;
    assert.equal(own.length, 2);
    const cards = b.page.locator('article[data-fd-id]');
    await cards.nth(1).waitFor();
    assert.deepEqual((await cards.evaluateAll((els: any[]) => els.map((e) => e.dataset.fdId))).sort(), own.map((f) => f.fdId).sort());
    for (const fd of own) {
      const card = b.page.locator(`article[data-fd-id="${fd.fdId}"]`);
      const ioasids = await card.locator('tr[data-ioasid]').evaluateAll((rows: any[]) =>
        rows.map((r) => [Number(r.dataset.ioasid), Number(r.children[1].textContent), Number(r.children[2].textContent)]),
      );
      assert.deepEqual(ioasids, fd.ioasids.map((io: any) => [io.ioasid, io.pasid, io.globalPasid]));
      const attachments = (await card.locator('tr[data-ioasid] td:last-child').allInnerTexts()).join(' ');
      for (const io of fd.ioasids) for (const a of io.attachments) assert.ok(attachments.includes(a.rid));
      assert.equal(await card.locator('table.kvm tbody tr').count(), fd.kvmMappings.length);
      assert.equal(await card.locator('[data-migratable]').getAttribute('data-migratable'), String(fd.migratable));
    }
    const html = await b.page.content();
    assert.ok(!html.includes(otherFd) && !html.includes(globex.tenantId), 'nothing of the other tenant');
    await b.screenshot('tenant-fds');
  });

  it("shows an fd's migration history and state, and its own events", async () => {
    await b.page.getByRole('link', { name: migrated.targetFdId }).click();
    await b.page.waitForURL(`**/ui/fds/${migrated.targetFdId}`);
    const row = b.page.locator(`tr[data-migration-id="${migrated.migrationId}"]`);
    await row.waitFor();
    const record = await acme.client.get(`/v1/migrations/${migrated.migrationId}`);
    assert.equal(await row.getAttribute('data-state'), record.body.state);
    assert.equal(record.body.state, 'completed');
    const events = (await acme.client.get(`/v1/events?fdId=${migrated.targetFdId}`)).body.events as Array<any>;
    const rows = b.page.locator('tr[data-event-version]');
    await rows.nth(events.length - 1).waitFor();
    assert.deepEqual(await rows.evaluateAll((r: any[]) => r.map((x) => x.children[1].textContent)), events.map((e) => e.type));
    await b.screenshot('tenant-fd');
  });

  it("answers another tenant's fd as missing, and operator pages with the API's 403 as a clear message", async () => {
    await b.open(`/ui/fds/${otherFd}`);
    const missing = b.page.getByRole('alert');
    await missing.waitFor();
    assert.equal(await missing.getAttribute('data-status'), '404');

    // The navigation offers a tenant no host page; a link to one answers the API's 403.
    await b.open(`/ui/hosts/${source}`);
    const refused = b.page.getByRole('alert');
    await refused.waitFor();
    assert.equal(await refused.getAttribute('data-status'), '403');
    const text = await refused.innerText();
    assert.match(text, /for the operator/);
    assert.match(text, /403 FORBIDDEN/);
    await b.screenshot('tenant-forbidden');
  });

  it('sends a tenant asking for / (the operator\'s hosts) on to its own fds, from the address bar or by history', async () => {
    const landsOnFds = async () => {
      await b.page.waitForURL('**/ui/fds');
      await b.page.locator('article[data-fd-id]').first().waitFor();
      assert.equal(await b.page.getByRole('alert').count(), 0, 'no refusal shown');
    };
    await b.open('/ui/');
    await landsOnFds();
    // Inside the console, as Back to a / in the tab's history would.
    await b.page.evaluate("history.pushState(null, '', '/ui/'); dispatchEvent(new PopStateEvent('popstate'))");
    await landsOnFds();
  });

  it('made no request to another origin and logged nothing but the refusals it provoked', () => {
    assertCleanSession(b, suite.app.url, [403, 404]);
  });
});
