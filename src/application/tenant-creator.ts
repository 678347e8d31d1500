import { hash, randomBytes, randomUUID } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { DEFAULT_QUOTAS, type Quotas } from '../model/values';
import { IdempotencyKeyTaken } from '../store/append-request';
import { TenantRepository } from '../store/tenant-repository';
import { IdempotentAnswers } from './idempotent-answers';
import type { RequestMeta } from './request-meta';

/** sha256 hex of a bearer token: what the tenants table keeps and the auth guard looks up. */
export function tokenHash(token: string): string {
  return hash('sha256', token);
}

/**
 * Operator: creates a tenant with a fresh bearer token, shown only in this answer
 * ({tenantId, name, quotas, token}). An idempotent repeat answers the same tenant without
 * the token: the token is never stored anywhere.
 */
@Injectable()
export class TenantCreator {
  constructor(
    private readonly tenants: TenantRepository,
    private readonly answers: IdempotentAnswers,
  ) {}

  async create(name: string, quotas: Partial<Quotas> | undefined, meta: RequestMeta): Promise<unknown> {
    const previous = await this.answers.previous(meta);
    if (previous) return previous.body;

    const token = `iot_${randomBytes(32).toString('base64url')}`;
    const tenant = { tenantId: randomUUID(), name, quotas: withDefaults(quotas) };
    try {
      await this.tenants.create(tenant, tokenHash(token), this.answers.recordOf(meta, tenant));
    } catch (e) {
      if (e instanceof IdempotencyKeyTaken) {
        const answer = await this.answers.previous(meta);
        if (answer) return answer.body;
      }
      throw e;
    }
    return { ...tenant, token };
  }
}

function withDefaults(quotas: Partial<Quotas> | undefined): Quotas {
  return {
    maxFds: quotas?.maxFds ?? DEFAULT_QUOTAS.maxFds,
    maxHostPasids: quotas?.maxHostPasids ?? DEFAULT_QUOTAS.maxHostPasids,
  };
}
