import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { DomainError } from '../model/errors';
import type { Quotas } from '../model/values';
import { IdempotencyKeyTaken, type IdempotencyRecord } from './append-request';
import { claimKey } from './idempotency-store';
import { UNIQUE_VIOLATION, sqlState, storeCall } from './store-errors';

export interface Tenant {
  tenantId: string;
  name: string;
  quotas: Quotas;
}

/** Tenants and their token hashes (sha256 hex: the token itself is never stored). */
const TOKEN_CACHE_MS = 60_000;
const TOKEN_CACHE_SIZE = 10_000;

@Injectable()
export class TenantRepository {
  private readonly byToken = new Map<string, { tenant: Tenant; until: number }>();

  constructor(private readonly dataSource: DataSource) {}

  /**
   * ALREADY_EXISTS when the name is taken. The idempotency record, when given, commits with
   * the tenant; IdempotencyKeyTaken when a concurrent request committed the same key first.
   */
  async create(tenant: Tenant, tokenHash: string, idempotency?: IdempotencyRecord): Promise<void> {
    await storeCall(async () => {
      try {
        await this.dataSource.transaction(async (m) => {
          await m.query('INSERT INTO tenants (tenant_id, name, quotas, token_hash) VALUES ($1, $2, $3, $4)', [
            tenant.tenantId,
            tenant.name,
            JSON.stringify(tenant.quotas),
            tokenHash,
          ]);
          if (idempotency && !(await claimKey(m, idempotency))) throw new IdempotencyKeyTaken(idempotency.scope, idempotency.key);
        });
      } catch (e) {
        if (sqlState(e) === UNIQUE_VIOLATION) throw new DomainError('ALREADY_EXISTS', `a tenant named "${tenant.name}" already exists`, { name: tenant.name });
        throw e;
      }
    });
  }

  /**
   * The tenant a bearer token belongs to, by the token's sha256 hex. Every request asks, so
   * found tenants are remembered for TOKEN_CACHE_MS: tokens cannot be revoked through the API,
   * and a row changed behind its back is seen within that time. Unknown tokens are not
   * remembered (a tenant created on another replica must work at once).
   */
  async findByTokenHash(tokenHashHex: string): Promise<Tenant | undefined> {
    const cached = this.byToken.get(tokenHashHex);
    if (cached && cached.until > Date.now()) return cached.tenant;
    const tenant = await this.findOne('token_hash', tokenHashHex);
    if (tenant) {
      if (this.byToken.size >= TOKEN_CACHE_SIZE) this.byToken.clear();
      this.byToken.set(tokenHashHex, { tenant, until: Date.now() + TOKEN_CACHE_MS });
    } else {
      this.byToken.delete(tokenHashHex);
    }
    return tenant;
  }

  findById(tenantId: string): Promise<Tenant | undefined> {
    return this.findOne('tenant_id', tenantId);
  }

  private async findOne(column: 'token_hash' | 'tenant_id', value: string): Promise<Tenant | undefined> {
    const rows: Array<{ tenant_id: string; name: string; quotas: Quotas }> = await storeCall(() =>
      this.dataSource.query(`SELECT tenant_id, name, quotas FROM tenants WHERE ${column} = $1`, [value]),
    );
    return rows.length ? { tenantId: rows[0].tenant_id, name: rows[0].name, quotas: rows[0].quotas } : undefined;
  }
}
