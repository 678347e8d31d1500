import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isDeepStrictEqual } from 'node:util';
import { Client } from 'pg';
import type { Page } from 'playwright-core';
import { expectStatus, registerHost, TEST_OPERATOR_TOKEN, useTestApp } from '../support/app';
import { assertCleanSession, useConsoleBrowser } from '../support/browser';
import { enqcmdHost, projectedAt, RIDS, type EnqcmdHost } from './enqcmd-host';

interface Row {
  rid: string;
  pasid: number;
  fdId: string;
  tenantId: string;
  ioasid: number;
  origin: string;
  firstStageGpa: string | null;
  domainId: number;
}

/** The entry rows the page shows (not the "added since" rows of a past version), with their diff marks. */
function shownRows(page: Page): Promise<Array<Row & { diff: string | null }>> {
  return page.locator('tr[data-rid][data-pasid]').evaluateAll((rows: any[]) =>
    rows.map((r) => {
      const cell = (i: number) => r.children[i].textContent.trim();
      return {
        rid: r.dataset.rid,
        pasid: Number(r.dataset.pasid),
        fdId: r.dataset.ownerFd,
        tenantId: r.children[2].querySelector('code').title,
        ioasid: Number(cell(3)),
        origin: cell(4),
        firstStageGpa: cell(5) === '—' ? null : cell(5),
        domainId: Number(cell(6)),
        diff: r.dataset.diff ?? null,
      };
    }),
  );
}

/** The API's hardware view as rows, in the page's order (RIDs in device order, PASIDs ascending). */
function apiRows(hw: any, tenantId: string): Row[] {
  return RIDS.flatMap((rid) =>
    Object.entries<any>(hw.rids[rid]?.pasids ?? {})
      .map(([pasid, e]) => ({
        rid,
        pasid: Number(pasid),
        fdId: e.fdId,
        tenantId,
        ioasid: e.ioasid,
        origin: e.origin,
        firstStageGpa: e.firstStageGpa ?? null,
        domainId: e.domainId,
      }))
      .sort((a, b) => a.pasid - b.pasid),
  );
}

/** A request of the console's fallback poll of a host's log (GET /v1/events after a version, a page of 1000). */
function isPoll(url: string): boolean {
  const { pathname, searchParams } = new URL(url);
  return pathname === '/v1/events' && searchParams.has('afterVersion') && searchParams.get('pageSize') === '1000';
}

function withoutDiff(rows: Array<Row & { diff: string | null }>): Row[] {
  return rows.map(({ diff: _, ...row }) => row);
}

/** The host page of the ENQCMD scenario: the map, time travel, history, live updates and verification. */
describe('console: a host', () => {
  const suite = useTestApp();
  const b = useConsoleBrowser(() => suite.app.url);
  let host: EnqcmdHost;
  const at = (version: number) => b.page.locator(`main[data-version="${version}"]`).waitFor();

  it('shows the PASID map entry for entry as the API hardware view, with the VM table, allocator and hash', async () => {
    host = await enqcmdHost(suite.app.operator);
    const hw = await projectedAt(suite.app.operator, host.hostId, 10);
    await b.open(`/ui/hosts/${host.hostId}#token=${TEST_OPERATOR_TOKEN}`);
    await at(10);
    assert.equal(await b.page.locator('main').getAttribute('data-at'), 'now');
    assert.deepEqual(withoutDiff(await shownRows(b.page)), apiRows(hw, host.tenantId));
    assert.equal((await shownRows(b.page)).length, 2, 'one global entry on each VF');

    const vm = await b.page.locator('table[data-vm] tr[data-guest-pasid]').evaluateAll((rows: any[]) =>
      rows.map((r) => [r.closest('table').dataset.vm, r.dataset.guestPasid, Number(r.children[1].textContent)]),
    );
    assert.deepEqual(vm, Object.entries<any>(hw.vms).flatMap(([v, t]) => Object.entries<any>(t).map(([g, h]) => [v, g, h])));
    const allocator = b.page.locator('dl[data-allocator-used]');
    assert.equal(await allocator.getAttribute('data-allocator-used'), String(hw.allocator.used));
    assert.equal(await allocator.getAttribute('data-allocator-free'), String(hw.allocator.free));
    assert.equal(await b.page.locator('[data-allocator-reserved]').count(), hw.allocator.reserved === undefined ? 0 : 1, 'reserved shows only when the API reports it');
    assert.equal(await b.page.locator('code[data-hash]').getAttribute('data-hash'), hw.hash);
    assert.match(await b.page.locator('.counts').first().innerText(), /local < 1024 ≤ global/, "the fd's split is drawn");
    await b.screenshot('host-map');
  });

  it('travels in time: ?version=N matches the API at N and marks what differs from now', async () => {
    const now = await projectedAt(suite.app.operator, host.hostId, 10);
    // By URL (a shared view), by the number input, and by the slider with the keyboard.
    const moves: Array<[number, () => Promise<void>]> = [
      [8, () => b.open(`/ui/hosts/${host.hostId}?version=8`)],
      [9, async () => {
        await b.page.getByLabel('Go to version').fill('9');
        await b.page.getByLabel('Go to version').press('Enter');
      }],
      [8, async () => {
        await b.page.getByLabel('Version', { exact: true }).focus();
        await b.page.keyboard.press('ArrowLeft');
      }],
    ];
    for (const [version, move] of moves) {
      await move();
      await at(version);
      assert.equal(new URL(b.page.url()).searchParams.get('version'), String(version));
      const past = await suite.app.operator.get(`/v1/hosts/${host.hostId}/hardware?version=${version}`);
      expectStatus(past, 200);
      const rows = await shownRows(b.page);
      assert.deepEqual(withoutDiff(rows), apiRows(past.body, host.tenantId), `version ${version}`);
      for (const row of rows) {
        const later = now.rids[row.rid]?.pasids[row.pasid];
        const expected = !later ? 'removed' : isDeepStrictEqual(later, past.body.rids[row.rid].pasids[row.pasid]) ? 'same' : 'changed';
        assert.equal(row.diff, expected, `${row.rid}/${row.pasid} at ${version}`);
      }
      const added = RIDS.flatMap((rid) => Object.keys(now.rids[rid].pasids).filter((p) => !past.body.rids[rid]?.pasids[p]));
      assert.equal(await b.page.locator('tr[data-diff="added"][data-now-pasid]').count(), added.length);
    }
    // At 8 nothing is programmed yet (binding the page table at 9 programs both VFs): added since.
    assert.deepEqual(await shownRows(b.page), []);
    assert.equal(await b.page.locator('tr[data-diff="added"]').count(), 3, 'two entries and the KVM translation');
    await b.screenshot('time-travel');

    // By time: the last version that occurred by the instant given.
    const events = (await suite.app.operator.get(`/v1/events?hostId=${host.hostId}`)).body.events as Array<{ version: number; occurredAt: string }>;
    const instant = events[5].occurredAt;
    const expected = Math.max(...events.filter((e) => e.occurredAt <= instant).map((e) => e.version));
    await b.page.getByLabel('Go to time').fill(instant.replace(/Z$/, ''));
    await b.page.getByLabel('Go to time').press('Enter');
    await at(expected);
    assert.equal(new URL(b.page.url()).searchParams.get('version'), String(expected));
  });

  it('shows the history: filters by type and fd; an event opens its envelope and moves time travel there', async () => {
    const all = (await suite.app.operator.get(`/v1/events?hostId=${host.hostId}`)).body.events as Array<any>;
    const rows = b.page.locator('tr[data-event-version]');
    await rows.nth(9).waitFor();
    assert.deepEqual(await rows.evaluateAll((r: any[]) => r.map((x) => Number(x.dataset.eventVersion))), all.map((e) => e.version));
    await b.page.getByLabel('Event type').selectOption('DeviceAttached');
    await rows.nth(2).waitFor({ state: 'detached' });
    assert.deepEqual(await rows.evaluateAll((r: any[]) => r.map((x) => Number(x.dataset.eventVersion))), [6, 7]);
    await b.page.getByLabel('Event type').selectOption('');
    await b.page.getByLabel('fd', { exact: true }).selectOption(host.fdId);
    await rows.nth(8).waitFor();
    await rows.nth(9).waitFor({ state: 'detached' });

    await b.page.getByRole('button', { name: /^event 4 / }).click();
    await at(4);
    const envelope = b.page.locator('.envelope pre');
    assert.deepEqual(JSON.parse(await envelope.innerText()), all[3]);
    await b.page.locator('#history-h').evaluate((h: any) => h.scrollIntoView());
    await b.screenshot('history');
  });

  it('follows the host live at "now": a command shows without a reload', async () => {
    await b.page.getByRole('button', { name: 'Now' }).click();
    await at(10);
    const fd = `/v1/fds/${host.fdId}`;
    expectStatus(await host.tenant.post(`${fd}/ioasids`), 201);
    for (const rid of RIDS) expectStatus(await host.tenant.post(`${fd}/ioasids/2/attachments`, { rid, enqcmd: true }), 201);
    const hwid = await host.tenant.put(`${fd}/ioasids/2/hwid`, { pasid: 6 });
    expectStatus(hwid, 200);
    const { globalPasid } = hwid.body;
    await at(14);
    const navigations: string[] = [];
    b.page.on('framenavigated', (f) => navigations.push(f.url()));
    const started = Date.now();
    expectStatus(await host.tenant.put(`${fd}/ioasids/2/pgtable`, { gpa: '0x7e0000' }), 200);
    await b.page.locator(`tr[data-rid="${RIDS[0]}"][data-pasid="${globalPasid}"]`).waitFor({ timeout: 10_000 });
    const latency = Date.now() - started;
    await at(15);
    assert.deepEqual(navigations, [], 'no reload');
    const hw = await projectedAt(suite.app.operator, host.hostId, 15);
    assert.deepEqual(withoutDiff(await shownRows(b.page)), apiRows(hw, host.tenantId));
    await b.page.locator('tr[data-event-version="15"]').waitFor();
    console.log(`# live update shown ${latency} ms after the command's answer`);
    // Through the watch, not by polling the log.
    assert.ok(b.requests.some((url) => url.startsWith(`${suite.app.url}/v1/events/watch?hostId=${host.hostId}&`)), 'the page watches the host');
    assert.deepEqual(b.requests.filter(isPoll), [], 'no poll of the log');
  });

  it('verifies: ok with the hash, then the first bad version of a tampered log', async () => {
    const hw = await projectedAt(suite.app.operator, host.hostId, 15);
    await b.page.getByRole('button', { name: 'Verify the log' }).click();
    const ok = b.page.locator('[data-verify="ok"]');
    await ok.waitFor();
    assert.ok((await ok.innerText()).includes(hw.hash));

    // Edit one event's data in PostgreSQL, as someone with database access could (test/replay/tamper-sql.ts).
    const db = new Client({ connectionString: suite.backend.env.DATABASE_URL });
    await db.connect();
    try {
      await db.query(`UPDATE events SET data = jsonb_set(data::jsonb, '{fdId}', '"fd-forged"') WHERE host_id = $1 AND version = $2`, [host.hostId, 5]);
    } finally {
      await db.end();
    }
    const api = await suite.app.operator.get(`/v1/hosts/${host.hostId}/verify`);
    assert.equal(api.body.ok, false);
    assert.equal(api.body.firstBadVersion, 5);
    await b.page.getByRole('button', { name: 'Verify the log' }).click();
    const bad = b.page.locator('[data-verify="failed"]');
    await bad.waitFor();
    assert.equal(await bad.getAttribute('data-first-bad-version'), '5');
    assert.ok((await bad.innerText()).includes(api.body.reason));
    await b.screenshot('verify-failed');
  });

  it('is readable on a narrow window', async () => {
    await b.page.setViewportSize({ width: 390, height: 800 });
    await b.page.getByRole('heading', { name: /PASID map/ }).scrollIntoViewIfNeeded();
    const overflow = await b.page.evaluate('document.documentElement.scrollWidth - document.documentElement.clientWidth');
    assert.equal(overflow, 0, 'no horizontal scrolling of the page (wide tables scroll in their own box)');
    await b.screenshot('host-narrow');
    await b.page.setViewportSize({ width: 1280, height: 800 });
  });

  it("shades the host kernel's reserved PASIDs and counts them, as the API reports them", async () => {
    const hostId = 'host-reserved';
    const reservedPasids = [
      { from: 1, count: 15 },
      { from: 4096, count: 256 },
    ];
    const registered = await suite.app.operator.post('/v1/hosts', { hostId, pasidBits: 20, enqcmd: true, nestedPasidTable: true, devices: [{ rid: RIDS[0], kind: 'vf', pasidBits: 20 }], reservedPasids });
    expectStatus(registered, 201);
    const hw = await projectedAt(suite.app.operator, hostId, 1);
    assert.deepEqual(hw.allocator.reserved, reservedPasids);
    await b.open(`/ui/hosts/${hostId}`);
    await at(1);
    assert.equal(await b.page.locator('[data-allocator-reserved]').innerText(), '271');
    const shaded = await b.page.locator('svg.space rect.reserved title').allTextContents();
    assert.deepEqual(
      shaded.map((t) => t.trim()),
      ['reserved 1–15', 'reserved 4096–4351'],
    );
  });

  it('falls back to polling the log when the watch is refused, and follows the watch again once it serves', async () => {
    const hostId = await registerHost(suite.app.operator, { devices: [{ rid: RIDS[0], kind: 'vf' }] });
    await projectedAt(suite.app.operator, hostId, 1);
    const refusal = (message: string) => JSON.stringify({ error: { code: 'UNAVAILABLE', message, details: {} } });
    const watch = '**/v1/events/watch?*';
    const log = (url: URL) => url.pathname === '/v1/events';
    await b.page.route(watch, (route) => route.fulfill({ status: 503, contentType: 'application/json', body: refusal('watch refused by the test') }));
    try {
      await b.open(`/ui/hosts/${hostId}`);
      await at(1);
      expectStatus(await suite.app.operator.post(`/v1/hosts/${hostId}/cordon`, undefined), 200);
      await at(2);
      assert.ok(b.requests.some((url) => url.startsWith(`${suite.app.url}/v1/events/watch?hostId=${hostId}&`)), 'the watch was tried first');
      assert.ok(b.requests.some((url) => isPoll(url) && url.includes(`hostId=${hostId}&`)), 'then the log was polled');

      // From now on only the watch can bring an event: the log refuses, the watch serves again.
      await b.page.route(log, (route) => route.fulfill({ status: 503, contentType: 'application/json', body: refusal('log refused by the test') }));
      await b.page.unroute(watch);
      expectStatus(await suite.app.operator.post(`/v1/hosts/${hostId}/uncordon`, undefined), 200);
      // The watch is tried again with backoff, at most WATCH_RETRY_MAX_MS (console/src/live.ts, 30 s) apart.
      await b.page.locator('main[data-version="3"]').waitFor({ timeout: 40_000 });
      expectStatus(await suite.app.operator.post(`/v1/hosts/${hostId}/cordon`, undefined), 200);
      await at(4);
    } finally {
      await b.page.unroute(watch);
      await b.page.unroute(log);
    }
  });

  it('made no request to another origin and logged no console error (but the 503 it provoked)', () => {
    assertCleanSession(b, suite.app.url, [503]);
  });
});
