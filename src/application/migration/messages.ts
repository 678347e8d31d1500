import type { Rid } from '../../model/values';
import type { Principal } from '../principal';
import type { RequestMeta } from '../request-meta';

/**
 * The CQRS messages of fd migration (DOMAIN.md operation 12), dispatched by both adapters:
 * REST (src/api/rest/migrations.controller.ts) and gRPC (`MigrateFd` maps onto
 * MigrateFdCommand, `GetMigration` onto GetMigrationQuery).
 */

/**
 * Migrates an fd to another host, all or nothing. Returns CommandResponse: 201
 * `{migrationId, state: "completed", targetFdId}`, or throws the DomainError that stopped it
 * with nothing changed anywhere. Honours `meta.idempotency` like every write.
 */
export class MigrateFdCommand {
  constructor(
    readonly fdId: string,
    readonly targetHostId: string,
    /** source RID -> target RID */
    readonly deviceMap: Record<Rid, Rid>,
    readonly meta: RequestMeta,
  ) {}
}

/** Returns the MigrationRecord; another tenant's migration is NOT_FOUND, exactly like a missing one. */
export class GetMigrationQuery {
  constructor(
    readonly principal: Principal,
    readonly migrationId: string,
  ) {}
}
