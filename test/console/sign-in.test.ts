import assert from 'node:assert/strict';
import { gzipSync } from 'node:zlib';
import { describe, it } from 'node:test';
import { createTenant, expectStatus, registerHost, TEST_OPERATOR_TOKEN, useTestApp } from '../support/app';
import { assertCleanSession, sessionHeader, useConsoleBrowser } from '../support/browser';
import { enqcmdHost } from './enqcmd-host';

/** The console's assets, sign-in and the operator's hosts list, in headless Chromium against the started service. */
describe('console: assets, sign-in, hosts', () => {
  // The access log at info, to see what reaches the server (the operator token is redacted from logs anyway: a tenant's is not).
  const logLines: string[] = [];
  const suite = useTestApp({ env: { LOG_LEVEL: 'info' }, logOut: { write: (line: string) => logLines.push(line) } });
  const b = useConsoleBrowser(() => suite.app.url);
  const hostIds: string[] = [];

  it('serves the console under /ui/ with no token, same origin only, and leads / there', async () => {
    const url = suite.app.url;
    const page = await fetch(`${url}/ui/`);
    assert.equal(page.status, 200);
    assert.match(page.headers.get('content-type') ?? '', /text\/html/);
    assert.match(page.headers.get('content-security-policy') ?? '', /default-src 'none'.*connect-src 'self'/);
    const html = await page.text();
    assert.doesNotMatch(html, /https?:\/\//, 'index.html names no other origin');

    const deep = await fetch(`${url}/ui/hosts/some-host?version=3`);
    assert.equal(deep.status, 200, 'a console route loads the app');
    assert.equal(await deep.text(), html);
    assert.equal(deep.headers.get('content-security-policy'), page.headers.get('content-security-policy'));
    assert.equal(deep.headers.get('cache-control'), 'no-cache');
    assert.equal((await fetch(`${url}/ui/assets/missing.js`)).status, 404, 'a missing asset is a 404, not the page');

    const root = await fetch(`${url}/`, { redirect: 'manual' });
    assert.equal(root.status, 302);
    assert.equal(root.headers.get('location'), '/ui/');

    // The first page's assets, compressed, stay under 300 KB.
    const assets = [...html.matchAll(/(?:src|href)="(\/ui\/[^"]+)"/g)].map((m) => m[1]);
    assert.ok(assets.some((a) => a.endsWith('.js')) && assets.some((a) => a.endsWith('.css')));
    let compressed = gzipSync(html).length;
    for (const asset of assets) {
      const res = await fetch(`${url}${asset}`);
      assert.equal(res.status, 200, asset);
      if (asset.includes('/assets/')) assert.match(res.headers.get('cache-control') ?? '', /immutable/);
      compressed += gzipSync(Buffer.from(await res.arrayBuffer())).length;
    }
    assert.ok(compressed < 300 * 1024, `first page: ${compressed} bytes compressed`);
  });

  it('a wrong token shows the API error and is not kept', async () => {
    const api = await fetch(`${suite.app.url}/v1/hosts`, { headers: { authorization: 'Bearer wrong-token' } });
    const { error } = (await api.json()) as { error: { code: string; message: string } };
    assert.equal(api.status, 401);

    await b.open('/ui/');
    await b.page.getByLabel('Token').fill('wrong-token');
    await b.page.getByRole('button', { name: 'Sign in' }).click();
    const alert = b.page.getByRole('alert');
    await alert.waitFor();
    const text = await alert.innerText();
    assert.ok(text.includes(`401 ${error.code}`) && text.includes(error.message), text);
    assert.equal(await b.page.evaluate('sessionStorage.length'), 0);
  });

  it('signs in with the form field `token`, keeping it in sessionStorage only', async () => {
    // 23 hosts (two pages): the first two run the README's ENQCMD VM, the others are idle.
    for (let i = 0; i < 23; i++) {
      const hostId = `rack1-node${String(i + 1).padStart(2, '0')}`;
      if (i < 2) await enqcmdHost(suite.app.operator, hostId, `tenant-${i}`);
      else await registerHost(suite.app.operator, { hostId, devices: [{ rid: '0000:01:00.0', kind: 'vf' }] });
      hostIds.push(hostId);
    }
    expectStatus(await suite.app.operator.post(`/v1/hosts/${hostIds[2]}/cordon`, undefined), 200);
    await b.open('/ui/');
    await b.page.locator('input[name="token"]').fill(TEST_OPERATOR_TOKEN);
    await b.page.keyboard.press('Enter');
    await b.page.getByRole('heading', { name: 'Hosts' }).waitFor();
    assert.deepEqual(await sessionHeader(b.page), { who: 'Signed in as operator', role: 'operator', nav: ['Hosts', 'Fds'] });
    assert.equal(await b.page.evaluate('sessionStorage.getItem("ioasid.token")'), TEST_OPERATOR_TOKEN);
    assert.equal(await b.page.evaluate('localStorage.length'), 0);
    assert.deepEqual(await b.context.cookies(), []);
    assert.ok(!b.requests.some((r) => r.includes(TEST_OPERATOR_TOKEN)), 'the token is in no URL');
  });

  it('lists hosts a page at a time with capabilities, PASIDs in use and allocator fill', async () => {
    const rows = b.page.locator('tr[data-host-id]');
    await rows.first().waitFor();
    assert.equal(await rows.count(), 20);
    for (const hostId of hostIds.slice(0, 3)) {
      const [host, hw] = await Promise.all([suite.app.operator.get(`/v1/hosts/${hostId}`), suite.app.operator.get(`/v1/hosts/${hostId}/hardware`)]);
      const cells = await b.page.locator(`tr[data-host-id="${hostId}"] td`).allInnerTexts();
      const yesNo = (v: boolean) => (v ? 'yes' : 'no');
      assert.deepEqual(cells.slice(0, 3), [String(host.body.pasidBits), yesNo(host.body.enqcmd), yesNo(host.body.nestedPasidTable)]);
      assert.equal(cells[4], String(hw.body.allocator.used));
      assert.equal(cells[6], String(host.body.version));
      assert.equal(cells[7], host.body.cordoned ? 'cordoned' : 'active');
    }
    assert.equal(await b.page.locator(`tr[data-host-id="${hostIds[2]}"]`).getAttribute('data-state'), 'cordoned');
    await b.screenshot('hosts');

    await b.page.getByRole('button', { name: 'Next page' }).click();
    await b.page.getByText('Page 2').waitFor();
    await b.page.locator(`tr[data-host-id="${hostIds[22]}"]`).waitFor();
    assert.equal(await rows.count(), 3);
    assert.equal(await b.page.getByRole('button', { name: 'Next page' }).isDisabled(), true);
    await b.page.getByRole('button', { name: 'Previous page' }).click();
    await b.page.locator(`tr[data-host-id="${hostIds[0]}"]`).waitFor();
  });

  it('moves by keyboard: tab to a host and open it with Enter; every control has a name', async () => {
    const link = b.page.getByRole('link', { name: hostIds[0], exact: true });
    let focused = false;
    for (let i = 0; i < 30 && !focused; i++) {
      await b.page.keyboard.press('Tab');
      focused = await link.evaluate((el: any) => el === el.ownerDocument.activeElement);
    }
    assert.ok(focused, 'the host link is reachable with Tab');
    await b.page.keyboard.press('Enter');
    await b.page.waitForURL(`**/ui/hosts/${hostIds[0]}`);
    await b.page.locator('main[data-version]').waitFor();
    const unnamed = await b.page.locator('input, select, button, a, meter').evaluateAll((els: any[]) =>
      els.filter((el) => !(el.labels?.length || el.getAttribute('aria-label') || el.textContent.trim())).map((el) => el.outerHTML),
    );
    assert.deepEqual(unnamed, []);
  });

  it('takes a token from #token= once, removes it from the address bar, and forgets it on sign-out', async () => {
    await b.page.getByRole('button', { name: 'Sign out' }).click();
    await b.page.getByLabel('Token').waitFor();
    assert.equal(await b.page.evaluate('sessionStorage.length'), 0);

    await b.open(`/ui/#token=${encodeURIComponent(TEST_OPERATOR_TOKEN)}`);
    await b.page.getByRole('heading', { name: 'Hosts' }).waitFor();
    assert.equal(b.page.url(), `${suite.app.url}/ui/`, 'no fragment left');
    assert.equal(await b.page.evaluate('location.hash'), '');
    assert.equal(await b.page.evaluate('sessionStorage.getItem("ioasid.token")'), TEST_OPERATOR_TOKEN);

    await b.page.getByRole('button', { name: 'Sign out' }).click();
    await b.page.getByLabel('Token').waitFor();
    await b.page.reload();
    await b.page.getByLabel('Token').waitFor();
    assert.equal(await b.page.evaluate('sessionStorage.length'), 0);
    await b.screenshot('sign-in');
  });

  it("sends a tenant's token from #token= only as a header: in no URL and no server log line", async () => {
    const tenant = await createTenant(suite.app.operator);
    logLines.length = 0;
    await b.open(`/ui/#token=${tenant.token}`);
    await b.page.waitForURL('**/ui/fds');
    await b.page.getByRole('heading', { name: 'Fds' }).waitFor();
    assert.deepEqual(await sessionHeader(b.page), { who: `Signed in as ${tenant.name}`, role: 'tenant', nav: ['Fds'] });
    assert.equal(await b.page.evaluate('location.hash'), '');
    assert.ok(!b.requests.some((r) => r.includes(tenant.token)), 'the token is in no URL');
    const fdsLine = logLines.find((l) => l.includes('"path":"/v1/fds"'));
    assert.ok(fdsLine?.includes(tenant.tenantId), 'the API knew the tenant from the Authorization header');
    assert.deepEqual(logLines.filter((l) => l.includes(tenant.token)), []);
  });

  it('made no request to another origin and logged no console error (but the 401 it provoked)', () => {
    assertCleanSession(b, suite.app.url, [401]);
  });
});
