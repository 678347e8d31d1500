import assert from 'node:assert/strict';
import type { EventEnvelope } from '../../src/model/envelope';
import type { CommandRecord } from './reliability-client';
import { httpRequest } from './http-request';

/** A GET as the given token; throws on a non-200 answer, so a check never passes on an error body. */
export async function getJson(baseUrl: string, token: string, path: string): Promise<any> {
  const res = await httpRequest(`${baseUrl}${path}`, { agent: false, headers: { authorization: `Bearer ${token}` } });
  if (res.status !== 200) throw new Error(`GET ${path}: ${res.status} ${res.body}`);
  return JSON.parse(res.body);
}

/** Every event a token may see (optionally of one host), following nextPageToken to the end. */
export async function readEventLog(baseUrl: string, token: string, hostId?: string): Promise<EventEnvelope[]> {
  const events: EventEnvelope[] = [];
  let pageToken: string | undefined;
  do {
    const query = new URLSearchParams({ pageSize: '1000' });
    if (hostId) query.set('hostId', hostId);
    if (pageToken) query.set('pageToken', pageToken);
    const page = await getJson(baseUrl, token, `/v1/events?${query}`);
    events.push(...page.events);
    pageToken = page.nextPageToken ?? undefined;
  } while (pageToken);
  return events;
}

export interface LogAudit {
  /** Acknowledged commands whose events are missing from the log. */
  lost: string[];
  /** Acknowledged commands whose events were appended by more than one execution. */
  duplicated: string[];
  /** Acknowledged commands whose events say something else than the client was told. */
  mismatched: string[];
  /** Commands that got no 2xx and still left events. */
  partial: string[];
  /** Acknowledged commands without events that `mayBeNoOp` allowed (a PUT of what is already there). */
  noOps: number;
}

/**
 * Compares what clients were told with the event log. Each command's events carry its
 * Idempotency-Key as correlationId and the commandId of the one execution that wrote them, so
 * a retry that executed again would show as a second commandId.
 */
export function auditLog(records: CommandRecord[], events: EventEnvelope[], mayBeNoOp: (r: CommandRecord) => boolean = () => false): LogAudit {
  const byCorrelation = new Map<string, EventEnvelope[]>();
  for (const e of events) byCorrelation.set(e.correlationId, [...(byCorrelation.get(e.correlationId) ?? []), e]);
  const audit: LogAudit = { lost: [], duplicated: [], mismatched: [], partial: [], noOps: 0 };
  for (const r of records) {
    const written = byCorrelation.get(r.key) ?? [];
    const acked = r.status >= 200 && r.status < 300;
    if (!acked) {
      if (written.length) audit.partial.push(`${r.key}: ${r.status} but ${written.length} event(s)`);
      continue;
    }
    if (!written.length && mayBeNoOp(r)) audit.noOps++;
    else if (!written.length) audit.lost.push(`${r.key} ${r.method} ${r.path}`);
    else if (new Set(written.map((e) => e.commandId)).size !== 1) audit.duplicated.push(`${r.key}: ${written.length} events from ${new Set(written.map((e) => e.commandId)).size} executions`);
    else {
      const mismatch = answerMismatch(r, written);
      if (mismatch) audit.mismatched.push(`${r.key}: ${mismatch}`);
    }
  }
  return audit;
}

/** Why the answer a client saw disagrees with the events its command wrote (undefined: it agrees). */
function answerMismatch(r: CommandRecord, written: EventEnvelope[]): string | undefined {
  const data = (type: string) => written.find((e) => e.type === type)?.data as Record<string, any> | undefined;
  const a = r.answer ?? {};
  const differ = (what: string, seen: unknown, logged: unknown) => (seen === logged ? undefined : `${what}: answered ${String(seen)}, logged ${String(logged)}`);
  if (r.method === 'POST' && r.path === '/v1/fds') return differ('fdId', a.fdId, data('FdCreated')?.fdId);
  if (r.method === 'POST' && r.path.endsWith('/ioasids')) return differ('ioasid', a.ioasid, data('IoasidAllocated')?.ioasid);
  if (r.method === 'POST' && r.path.endsWith('/attachments')) {
    const d = data('DeviceAttached');
    return differ('rid', a.rid, d?.rid) ?? differ('ioasid', a.ioasid, d?.ioasid) ?? differ('mdevId', a.mdevId, d?.mdevId);
  }
  if (r.method === 'PUT' && r.path.endsWith('/hwid')) {
    const d = data('HwidSet');
    return differ('pasid', a.pasid, d?.pasid) ?? differ('globalPasid', a.globalPasid, d?.globalPasid);
  }
  if (r.method === 'PUT' && r.path.includes('/kvm-pasid-mappings/')) return differ('hostPasid', (r.body as any)?.hostPasid, data('KvmPasidMapped')?.hostPasid);
  if (r.method === 'DELETE' && /\/ioasids\/\d+$/.test(r.path)) return data('IoasidFreed') ? undefined : 'no IoasidFreed';
  if (r.method === 'DELETE' && r.path.includes('/attachments/')) return data('DeviceDetached') ? undefined : 'no DeviceDetached';
  return undefined;
}

/**
 * Walks a host's log in version order, holding every host-allocated PASID it hands out and
 * giving back what releases name. A PASID handed out while held is a double allocation.
 */
export function pasidLedger(events: EventEnvelope[]): { doubleAllocated: string[]; strayReleases: string[]; held: Set<number>; gaps: number[] } {
  const held = new Set<number>();
  const doubleAllocated: string[] = [];
  const strayReleases: string[] = [];
  const gaps: number[] = [];
  const sorted = [...events].sort((x, y) => x.version - y.version);
  sorted.forEach((e, i) => {
    if (e.version !== i + 1) gaps.push(i + 1);
  });
  const take = (e: EventEnvelope, p: number | undefined) => {
    if (p === undefined) return;
    if (held.has(p)) doubleAllocated.push(`${e.hostId} v${e.version} ${e.type}: PASID ${p} already held`);
    held.add(p);
  };
  for (const e of sorted) {
    const d = e.data as Record<string, any>;
    if (e.type === 'HwidSet') {
      take(e, d.globalPasid);
      take(e, d.realPasid);
    }
    if (e.type === 'DeviceAttached') take(e, d.realPasid);
    if (e.type === 'FdImported') for (const p of d.allocatedPasids as number[]) take(e, p);
    for (const p of (d.released?.pasids as number[] | undefined) ?? []) {
      if (!held.delete(p)) strayReleases.push(`${e.hostId} v${e.version} ${e.type}: released PASID ${p} not held`);
    }
  }
  return { doubleAllocated, strayReleases, held, gaps };
}

/** The host's verify answer and hardware projection once the projection reached the head (bounded polling). */
export async function settledHost(baseUrl: string, operatorToken: string, hostId: string, attempts = 1200) {
  const verify = await getJson(baseUrl, operatorToken, `/v1/hosts/${hostId}/verify`);
  let hardware = await getJson(baseUrl, operatorToken, `/v1/hosts/${hostId}/hardware`);
  for (let i = 0; i < attempts && hardware.version < verify.version; i++) {
    await new Promise((r) => setTimeout(r, 50));
    hardware = await getJson(baseUrl, operatorToken, `/v1/hosts/${hostId}/hardware`);
  }
  return { verify, hardware };
}

/**
 * Every host, once the load is over: no PASID held twice, no stray release, no version gap
 * (ledger over its log); verify ok; the hardware projection at the head with the replay hash
 * and an allocator holding what the ledger holds; live fds holding exactly those PASIDs.
 */
export async function assertHostsSettled(baseUrl: string, operatorToken: string, hostIds: string[], events: EventEnvelope[]): Promise<void> {
  for (const hostId of hostIds) {
    const ledger = pasidLedger(events.filter((e) => e.hostId === hostId));
    assert.deepEqual(ledger.doubleAllocated, [], `${hostId}: no PASID held twice`);
    assert.deepEqual(ledger.strayReleases, [], `${hostId}: releases name held PASIDs`);
    assert.deepEqual(ledger.gaps, [], `${hostId}: versions without gaps`);
    const { verify, hardware } = await settledHost(baseUrl, operatorToken, hostId);
    assert.equal(verify.ok, true, `${hostId}: verify ${JSON.stringify(verify)}`);
    assert.equal(hardware.version, verify.version, `${hostId}: the projection caught up after the faults`);
    assert.equal(hardware.hash, verify.hash, `${hostId}: projected hash = replayed hash`);
    assert.equal(hardware.allocator.used, ledger.held.size, `${hostId}: the allocator holds what the log says`);
    const fds = await getJson(baseUrl, operatorToken, `/v1/fds?hostId=${hostId}`);
    const globals = fds.fds.flatMap((fd: any) => fd.ioasids.map((io: any) => io.globalPasid).filter((p: unknown) => p !== undefined));
    assert.equal(new Set(globals).size, globals.length, `${hostId}: live global PASIDs are distinct`);
    assert.deepEqual([...globals].sort(), [...ledger.held].sort(), `${hostId}: live fds hold exactly the allocated PASIDs`);
  }
}

/** The figures every load test prints: what the clients sent and what the log holds. */
export function loadFigures(records: CommandRecord[], events: EventEnvelope[], audit: LogAudit) {
  return {
    commands: records.length,
    attempts: records.reduce((n, r) => n + r.attempts, 0),
    retriedAfterConnectionError: records.filter((r) => r.connectionErrors > 0).length,
    retriedAfter503: records.filter((r) => r.unavailable > 0).length,
    events: events.length,
    lost: audit.lost.length,
    duplicated: audit.duplicated.length,
  };
}
