import { hash, randomBytes, randomUUID } from 'node:crypto';
import { CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import { DEFAULT_QUOTAS, type Quotas } from '../model/values';
import { IdempotencyKeyTaken } from '../store/append-request';
import { TenantRepository } from '../store/tenant-repository';
import { IdempotentAnswers } from './idempotent-answers';
import { CreateTenantCommand } from './messages';
import type { CommandResponse } from './request-meta';

/** sha256 hex of a bearer token: what the tenants table keeps and the auth guard looks up. */
export function tokenHash(token: string): string {
  return hash('sha256', token);
}

/**
 * Creates a tenant with a fresh bearer token, shown only in this answer. An idempotent
 * repeat answers the same tenant without the token: the token is never stored anywhere.
 */
@CommandHandler(CreateTenantCommand)
export class CreateTenantHandler implements ICommandHandler<CreateTenantCommand, CommandResponse> {
  constructor(
    private readonly tenants: TenantRepository,
    private readonly answers: IdempotentAnswers,
  ) {}

  async execute({ name, quotas, meta }: CreateTenantCommand): Promise<CommandResponse> {
    const previous = await this.answers.previous(meta);
    if (previous) return previous;

    const token = `iot_${randomBytes(32).toString('base64url')}`;
    const tenant = { tenantId: randomUUID(), name, quotas: withDefaults(quotas) };
    const response: CommandResponse = { status: 201, body: { ...tenant, token } };
    try {
      await this.tenants.create(tenant, tokenHash(token), this.answers.recordOf(meta, { status: 201, body: tenant }));
    } catch (e) {
      if (e instanceof IdempotencyKeyTaken) {
        const answer = await this.answers.previous(meta);
        if (answer) return answer;
      }
      throw e;
    }
    return response;
  }
}

function withDefaults(quotas: Partial<Quotas> | undefined): Quotas {
  return {
    maxFds: quotas?.maxFds ?? DEFAULT_QUOTAS.maxFds,
    maxHostPasids: quotas?.maxHostPasids ?? DEFAULT_QUOTAS.maxHostPasids,
  };
}
