import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { postgresBackend, startTestApp, TEST_OPERATOR_TOKEN, type TestApp, type TestBackend } from '../support/app';
import { auditLog, getJson, pasidLedger, readEventLog, settledHost } from '../support/reliability-checks';
import { RetryingClient, type CommandRecord } from '../support/reliability-client';
import { contractBreach } from '../support/reliability-contract';
import { seededRandom } from '../support/reliability-random';
import { reliabilityScale } from '../support/reliability-workload';

const scale = reliabilityScale();
const SHARED_FD_CLIENTS = 16;
const OWN_FD_CLIENTS = 8;
const OPS_PER_CLIENT = 25 * scale;
const VFS = ['0000:3b:00.1', '0000:3b:00.2', '0000:3b:00.3'];
const SIOV = '0000:5e:00.0';
const SPLIT = 1024;
/** Guest PASIDs drawn from a small range, so concurrent set-hwid and KVM calls collide on purpose. */
const GUEST_PASIDS = 12;

/**
 * Many clients at once on one host and on one fd: alloc/free, attach/detach (vf and siov),
 * set-hwid, page tables and KVM mappings, racing on the same ioasids and guest PASIDs. Refusals
 * are expected; what must hold is the contract (no 5xx, documented codes only) and the invariants.
 */
describe('concurrency: one host, one fd, many clients', () => {
  let backend: TestBackend;
  let app: TestApp;

  before(async () => {
    backend = await postgresBackend();
    app = await startTestApp(backend.env);
  });
  after(async () => {
    await app?.close();
    await backend?.dispose();
  });

  it('keeps every invariant and the error contract under racing commands', async () => {
    const random = seededRandom('concurrency');
    const url = () => app.url;
    const operator = new RetryingClient(url, TEST_OPERATOR_TOKEN);
    const hostId = `conc-${random.seed}`;
    const devices = [...VFS.map((rid) => ({ rid, kind: 'vf', pasidBits: 20 })), { rid: SIOV, kind: 'siov', pasidBits: 20 }];
    assert.equal((await operator.command('POST', '/v1/hosts', 'host', { hostId, pasidBits: 20, enqcmd: true, nestedPasidTable: true, devices })).status, 201);
    const tenant = await operator.command('POST', '/v1/tenants', 'tenant', { name: `conc-${random.seed}` });
    const owner = new RetryingClient(url, tenant.answer.token);
    const openFd = async (vmId: string) => {
      const fd = (await owner.command('POST', '/v1/fds', `fd-${vmId}`, { hostId, vmId })).answer.fdId as string;
      assert.equal((await owner.command('PUT', `/v1/fds/${fd}/hwid-mode`, `mode-${vmId}`, { mode: 'global' })).status, 200);
      assert.equal((await owner.command('PUT', `/v1/fds/${fd}/global-min`, `split-${vmId}`, { globalMin: SPLIT })).status, 200);
      return fd;
    };
    const shared = await openFd('shared-vm');
    const own = await Promise.all(Array.from({ length: OWN_FD_CLIENTS }, (_, i) => openFd(`own-vm-${i}`)));

    const clients = Array.from({ length: SHARED_FD_CLIENTS + OWN_FD_CLIENTS }, () => new RetryingClient(url, tenant.answer.token));
    let n = 0;
    const op = async (client: RetryingClient, fd: string, vf: string) => {
      const fdPath = `/v1/fds/${fd}`;
      const ioasid = random.between(1, 6);
      const io = `${fdPath}/ioasids/${ioasid}`;
      const guest = random.between(1, GUEST_PASIDS);
      const key = `op-${++n}`;
      switch (random.between(0, 9)) {
        case 0:
          return client.command('POST', `${fdPath}/ioasids`, key);
        case 1:
          return client.command('DELETE', io, key);
        case 2:
          return client.command('POST', `${io}/attachments`, key, { rid: vf, enqcmd: random.next() < 0.5 });
        case 3:
          return client.command('POST', `${io}/attachments`, key, { rid: SIOV, enqcmd: random.next() < 0.5 });
        case 4:
          return client.command('DELETE', `${io}/attachments/${vf}`, key);
        case 5:
          return client.command('PUT', `${io}/hwid`, key, { pasid: guest });
        case 6: {
          // Map the guest PASID to what the fd says this ioasid holds, or to a PASID it may not own.
          const hwid = await client.command('GET', `${io}/hwid`, `${key}-read`);
          const hostPasid = hwid.status === 200 && random.next() < 0.8 ? hwid.answer.hostPasid : random.between(SPLIT, SPLIT + 64);
          return client.command('PUT', `${fdPath}/kvm-pasid-mappings/${hwid.status === 200 ? hwid.answer.pasid : guest}`, key, { hostPasid });
        }
        case 7:
          return client.command('DELETE', `${fdPath}/kvm-pasid-mappings/${guest}`, key);
        case 8:
          return client.command('PUT', `${io}/pgtable`, key, { gpa: `0x${(ioasid * 0x200000).toString(16)}` });
        default:
          return client.command('DELETE', `${io}/pgtable`, key);
      }
    };
    const started = Date.now();
    await Promise.all(
      clients.map(async (client, i) => {
        const mine = i < SHARED_FD_CLIENTS ? { fd: shared, vf: VFS[i % VFS.length] } : { fd: own[i - SHARED_FD_CLIENTS], vf: VFS[i % VFS.length] };
        for (let k = 0; k < OPS_PER_CLIENT; k++) await op(client, mine.fd, mine.vf);
      }),
    );
    const durationMs = Date.now() - started;

    const records: CommandRecord[] = clients.flatMap((c) => c.records);
    const breaches = records
      .map((r) => ({ r, breach: contractBreach(r.status, 'application/json', JSON.stringify(r.answer ?? '')) }))
      .filter(({ r, breach }) => breach !== undefined && !(r.status < 300));
    assert.deepEqual(breaches.map(({ r, breach }) => `${r.method} ${r.path}: ${breach}`), [], 'no 5xx, only documented codes');

    const events = await readEventLog(app.url, TEST_OPERATOR_TOKEN, hostId);
    // Setting a KVM mapping that is already in place (domain: kvm.ts), or binding the page table an
    // ioasid already has (domain: pgtable.ts, atomic replace), answers 200 and appends nothing.
    const repeatedSetting = (r: CommandRecord) => r.method === 'PUT' && (r.path.includes('/kvm-pasid-mappings/') || r.path.endsWith('/pgtable'));
    const audit = auditLog(records.filter((r) => r.method !== 'GET'), events, repeatedSetting);
    assert.deepEqual({ ...audit, noOps: 0 }, { lost: [], duplicated: [], mismatched: [], partial: [], noOps: 0 });
    const ledger = pasidLedger(events);
    assert.deepEqual(ledger.doubleAllocated, [], 'no PASID held twice');
    assert.deepEqual(ledger.strayReleases, []);

    const { verify, hardware } = await settledHost(app.url, TEST_OPERATOR_TOKEN, hostId);
    assert.equal(verify.ok, true, JSON.stringify(verify));
    assert.equal(hardware.hash, verify.hash, 'projection = replay');
    assert.equal(hardware.allocator.used, ledger.held.size);

    const fds = (await getJson(app.url, TEST_OPERATOR_TOKEN, `/v1/fds?hostId=${hostId}`)).fds as any[];
    const globals: number[] = [];
    for (const fd of fds) {
      const locals = new Map<number, number>();
      for (const io of fd.ioasids) {
        if (io.globalPasid === undefined) continue;
        globals.push(io.globalPasid);
        assert.ok(io.pasid < SPLIT && io.globalPasid >= SPLIT, `I5 split: ${JSON.stringify(io)}`);
        assert.ok(!locals.has(io.pasid), `I5: local PASID ${io.pasid} maps to one global PASID in fd ${fd.fdId}`);
        locals.set(io.pasid, io.globalPasid);
      }
      for (const m of fd.kvmMappings) assert.equal(locals.get(m.guestPasid), m.hostPasid, `I6: KVM ${m.guestPasid} -> ${m.hostPasid} is a global PASID this fd holds for it`);
    }
    assert.equal(new Set(globals).size, globals.length, 'I1: global PASIDs distinct on the host');

    const byCode: Record<string, number> = {};
    for (const r of records) {
      const code = r.status < 300 ? String(r.status) : (r.answer?.error?.code ?? String(r.status));
      byCode[code] = (byCode[code] ?? 0) + 1;
    }
    console.log(`concurrency figures: ${JSON.stringify({ scale, clients: clients.length, sharedFdClients: SHARED_FD_CLIENTS, requests: records.length, events: events.length, repeatedMappings: audit.noOps, durationMs, byCode })}`);
    assert.ok((byCode['200'] ?? 0) + (byCode['201'] ?? 0) > records.length / 10, 'enough commands succeeded to make the race real');
  });
});
