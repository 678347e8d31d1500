import { Logger } from '@nestjs/common';
import { LRUCache } from 'lru-cache';
import type { PoolClient } from 'pg';
import type { DataSource, QueryRunner } from 'typeorm';
import { DomainError } from '../model/errors';
import type { EventEnvelope } from '../model/envelope';
import { IdempotencyKeyTaken, type AppendRequest } from './append-request';
import { appendBatch, readHeadHashes } from './append-statement';
import { DEADLOCK_DETECTED, SERIALIZATION_FAILURE, UNIQUE_VIOLATION, sqlState, toStoreError } from './store-errors';

/** Why a request of a batch did not commit. */
type LoserReason = 'version-conflict' | 'key-taken';

interface Pending {
  request: AppendRequest;
  resolve(envelopes: EventEnvelope[]): void;
  reject(error: unknown): void;
}

/** How many appends one batch takes at most: bounds statement size and lock time. */
const MAX_BATCH = 256;
/** Streams whose head this process remembers, the most recently appended (about 200 bytes each). */
const MAX_CACHED_HEADS = 10_000;
/** Deadlocks can only come from another replica's batch locking the same heads in another order. */
const MAX_DEADLOCK_RETRIES = 3;

/**
 * Group commit: one batch in flight; appends that arrive meanwhile wait and go together into
 * the next one, written by a single multi-row statement (append-statement.ts). Each append is
 * still checked against its own expected version and fails alone.
 */
export class GroupCommitter {
  private readonly logger = new Logger(GroupCommitter.name);
  private queue: Pending[] = [];
  private running?: Promise<void>;
  /** Head hash per stream, from this process's own commits: saves a read per append (a miss costs that read). */
  private readonly heads = new LRUCache<string, { version: number; hash: string }>({ max: MAX_CACHED_HEADS });

  constructor(
    private readonly dataSource: DataSource,
    private readonly onCommit: (envelopes: EventEnvelope[]) => void,
  ) {}

  append(request: AppendRequest): Promise<EventEnvelope[]> {
    if (request.events.length === 0 && !request.idempotency) return Promise.resolve([]);
    return new Promise((resolve, reject) => {
      this.queue.push({ request, resolve, reject });
      this.running ??= this.drain().finally(() => (this.running = undefined));
    });
  }

  /** Resolves once every append queued so far has committed or failed. */
  async flush(): Promise<void> {
    while (this.running) await this.running;
  }

  private async drain(): Promise<void> {
    while (this.queue.length) await this.commit(this.takeBatch());
  }

  /** At most one append per stream and per idempotency key in a batch: the others wait for the next. */
  private takeBatch(): Pending[] {
    const streams = new Set<string>();
    const keys = new Set<string>();
    const batch: Pending[] = [];
    const rest: Pending[] = [];
    for (const p of this.queue) {
      const key = p.request.idempotency && `${p.request.idempotency.scope}\u0000${p.request.idempotency.key}`;
      if (batch.length < MAX_BATCH && !streams.has(p.request.hostId) && !(key && keys.has(key))) {
        batch.push(p);
        streams.add(p.request.hostId);
        if (key) keys.add(key);
      } else {
        rest.push(p);
      }
    }
    this.queue = rest;
    return batch;
  }

  private async commit(batch: Pending[], deadlocks = 0): Promise<void> {
    let qr: QueryRunner;
    let client: PoolClient;
    try {
      qr = this.dataSource.createQueryRunner();
      // The driver's own client: TypeORM's query() cannot name a statement (append-statement.ts).
      client = (await qr.connect()) as PoolClient;
    } catch (e) {
      return this.fail(batch, toStoreError(e));
    }
    let live = batch;
    let failure: { error: unknown } | undefined;
    try {
      while (live.length) {
        const outcome = await this.tryOnce(client, live);
        if (outcome.committed) this.succeed(outcome.committed);
        for (const [p, reason] of outcome.losers) p.reject(loserError(p.request, reason));
        if (outcome.committed) return;
        live = live.filter((p) => !outcome.losers.has(p));
      }
    } catch (e) {
      failure = { error: e };
    } finally {
      await qr.release().catch(() => undefined);
    }
    // Retried only once the connection is back in the pool: the embedded database has just one.
    if (failure) await this.retryAfterFailure(live, failure.error, deadlocks);
  }

  /**
   * One attempt: a single statement, inside a transaction only when idempotency keys are
   * claimed (a key lost after its stream moved must undo the move). Returns what committed
   * and who lost; when nothing committed, the caller retries without the losers.
   */
  private async tryOnce(
    client: PoolClient,
    live: Pending[],
  ): Promise<{ committed?: Map<Pending, EventEnvelope[]>; losers: Map<Pending, LoserReason> }> {
    const losers = new Map<Pending, LoserReason>();
    const heads = await this.headHashes(client, live);
    // No event at the expected version: the stream is not there, whatever its head row says.
    for (const p of live) if (p.request.expectedVersion > 0 && p.request.events.length && !heads.has(p.request.hostId)) losers.set(p, 'version-conflict');
    const candidates = live.filter((p) => !losers.has(p));
    if (!candidates.length) return { losers };

    const requests = candidates.map((p) => p.request);
    const inTransaction = requests.some((r) => r.idempotency);
    if (inTransaction) await client.query('BEGIN');
    try {
      const outcome = await appendBatch(client, requests, heads);
      for (const p of candidates) {
        if (outcome.versionLosers.includes(p.request)) losers.set(p, 'version-conflict');
        else if (outcome.keyLosers.includes(p.request)) losers.set(p, 'key-taken');
      }
      if (outcome.keyLosers.length) {
        await client.query('ROLLBACK');
        return { losers };
      }
      if (inTransaction) await client.query('COMMIT');
      return { committed: new Map(candidates.filter((p) => !losers.has(p)).map((p) => [p, outcome.envelopes.get(p.request)!])), losers };
    } catch (e) {
      if (inTransaction) await client.query('ROLLBACK').catch(() => undefined);
      throw e;
    }
  }

  /** The hash of each stream's event at its expected version: cached from this process's commits, else read. */
  private async headHashes(client: PoolClient, live: Pending[]): Promise<Map<string, string>> {
    const heads = new Map<string, string>();
    const unknown: Array<{ hostId: string; version: number }> = [];
    for (const { request: r } of live) {
      if (r.expectedVersion === 0 || r.events.length === 0) continue;
      const cached = this.heads.get(r.hostId);
      if (cached?.version === r.expectedVersion) heads.set(r.hostId, cached.hash);
      else unknown.push({ hostId: r.hostId, version: r.expectedVersion });
    }
    for (const [hostId, hash] of await readHeadHashes(client, unknown)) heads.set(hostId, hash);
    return heads;
  }

  /** A failure that hit the whole batch: a deadlock retries it; a unique violation is split so that only the culprit fails. */
  private async retryAfterFailure(live: Pending[], e: unknown, deadlocks: number): Promise<void> {
    for (const p of live) this.heads.delete(p.request.hostId);
    const state = sqlState(e);
    if ((state === DEADLOCK_DETECTED || state === SERIALIZATION_FAILURE) && deadlocks < MAX_DEADLOCK_RETRIES) {
      return this.commit(live, deadlocks + 1);
    }
    if (state === UNIQUE_VIOLATION && live.length > 1) {
      for (const p of live) await this.commit([p]);
      return;
    }
    if (state === UNIQUE_VIOLATION) return this.fail(live, loserError(live[0].request, 'version-conflict'));
    if (!isStoreFailure(e)) this.logger.error(`append batch failed: ${e instanceof Error ? e.stack : String(e)}`);
    this.fail(live, toStoreError(e));
  }

  private succeed(committed: Map<Pending, EventEnvelope[]>): void {
    const all: EventEnvelope[] = [];
    for (const [p, envelopes] of committed) {
      const last = envelopes[envelopes.length - 1];
      if (last) this.heads.set(last.hostId, { version: last.version, hash: last.hash });
      all.push(...envelopes);
      p.resolve(envelopes);
    }
    if (all.length) this.onCommit(all);
  }

  private fail(batch: Pending[], error: unknown): void {
    for (const p of batch) p.reject(error);
  }
}

function loserError(request: AppendRequest, reason: LoserReason): Error {
  if (reason === 'key-taken') return new IdempotencyKeyTaken(request.idempotency!.scope, request.idempotency!.key);
  return new DomainError('VERSION_CONFLICT', `host ${request.hostId} is no longer at version ${request.expectedVersion}`, {
    hostId: request.hostId,
    expectedVersion: request.expectedVersion,
  });
}

function isStoreFailure(e: unknown): boolean {
  return toStoreError(e) !== e;
}
