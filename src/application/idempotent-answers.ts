import { Injectable } from '@nestjs/common';
import type { Actor } from '../model/envelope';
import { DomainError } from '../model/errors';
import { IdempotencyKeyTaken, type IdempotencyRecord } from '../store/append-request';
import { EventStore } from '../store/event-store';
import { IdempotencyStore } from '../store/idempotency-store';
import { tenantScopeOf, type Principal } from './principal';
import type { Answer, RequestMeta } from './request-meta';

/** Idempotency-Key semantics of API.md: keys are per tenant (the operator has its own scope). */
@Injectable()
export class IdempotentAnswers {
  constructor(
    private readonly store: IdempotencyStore,
    private readonly events: EventStore,
  ) {}

  /**
   * The first answer to this request, if it was already answered within 24 hours; undefined
   * when there is no key or no answer yet. The same key with another request is IDEMPOTENCY_KEY_REUSED.
   */
  async previous(meta: RequestMeta): Promise<Answer | undefined> {
    if (!meta.idempotency) return undefined;
    const { key, fingerprint } = meta.idempotency;
    const stored = await this.store.find(scopeOf(meta.principal), key);
    if (!stored) return undefined;
    if (stored.fingerprint !== fingerprint) {
      throw new DomainError('IDEMPOTENCY_KEY_REUSED', 'this Idempotency-Key was used for a different request', { idempotencyKey: key });
    }
    return { body: stored.body };
  }

  /**
   * Stores an answer that no append of this request carries (a migration another process
   * completed first), so that a repeat of the key gets it too; the first answer stored wins.
   */
  async remember(hostId: string, meta: RequestMeta, body: unknown): Promise<unknown> {
    const idempotency = this.recordOf(meta, body);
    if (!idempotency) return body;
    try {
      await this.events.append({ hostId, expectedVersion: 0, events: [], actor: actorOf(meta.principal), commandId: meta.commandId, correlationId: meta.correlationId, idempotency });
      return body;
    } catch (e) {
      if (!(e instanceof IdempotencyKeyTaken)) throw e;
      return ((await this.previous(meta)) ?? { body }).body;
    }
  }

  /** The record to store with the write, when the request has a key. */
  recordOf(meta: RequestMeta, body: unknown): IdempotencyRecord | undefined {
    if (!meta.idempotency) return undefined;
    return {
      scope: scopeOf(meta.principal),
      key: meta.idempotency.key,
      fingerprint: meta.idempotency.fingerprint,
      body,
    };
  }
}

function scopeOf(principal: Principal): string {
  return tenantScopeOf(principal) ?? 'operator';
}

/** Who an event says caused it. */
export function actorOf(principal: Principal): Actor {
  return principal.kind === 'tenant' ? `tenant:${principal.tenantId}` : 'operator';
}
