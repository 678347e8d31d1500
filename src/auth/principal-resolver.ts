import { Inject, Injectable } from '@nestjs/common';
import { timingSafeEqual } from 'node:crypto';
import { tokenHash } from '../application/tenant-creator';
import { OPERATOR, type Principal } from '../application/principal';
import { APP_CONFIG, type AppConfig } from '../config';
import { TenantRepository } from '../store/tenant-repository';

/**
 * Who a bearer token belongs to: the operator (from config), a tenant (by token hash), or
 * nobody. Tokens are only ever handled as SHA-256 digests: the operator's is compared in
 * constant time, a tenant's is looked up (the store keeps no token).
 */
@Injectable()
export class PrincipalResolver {
  private readonly operatorDigest: Buffer;

  constructor(
    @Inject(APP_CONFIG) config: AppConfig,
    private readonly tenants: TenantRepository,
  ) {
    this.operatorDigest = Buffer.from(tokenHash(config.operatorToken), 'hex');
  }

  async resolve(token: string): Promise<Principal | undefined> {
    const hash = tokenHash(token);
    // Both are SHA-256 digests, so the lengths timingSafeEqual requires are always equal.
    if (timingSafeEqual(Buffer.from(hash, 'hex'), this.operatorDigest)) return OPERATOR;
    const tenant = await this.tenants.findByTokenHash(hash);
    return tenant ? { kind: 'tenant', tenantId: tenant.tenantId } : undefined;
  }
}
