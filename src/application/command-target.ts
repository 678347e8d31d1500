import { Injectable } from '@nestjs/common';
import type { DecideContext } from '../domain';
import { commandScope, type HostCommand } from '../model/commands';
import { DomainError } from '../model/errors';
import { FdLocations } from './fd-locations';
import { NO_QUOTAS, TenantQuotas } from './tenant-quotas';

/** Where a command runs, the tenant whose fd it concerns (stamped into its events), and what it decides with. */
export interface CommandTarget {
  hostId: string;
  tenantId?: string;
  /** Holds the quotas of the command's tenant, loaded as the target was resolved. */
  decideContext: DecideContext;
}

/**
 * Resolves a command's host: from the command (RegisterHost and the host lifecycle), from the caller (CreateFd,
 * ImportFd, BarMigrationImport), or from the fd directory (fd-scoped commands). Loads the tenant's quotas for
 * the decider on the way, so an unknown tenant is NOT_FOUND before anything is decided.
 */
@Injectable()
export class CommandTargets {
  constructor(
    private readonly fds: FdLocations,
    private readonly quotas: TenantQuotas,
  ) {}

  async resolve(command: HostCommand, hostId: string | undefined): Promise<CommandTarget> {
    const scope = commandScope(command);
    switch (scope.kind) {
      case 'host':
        return { hostId: scope.hostId, decideContext: NO_QUOTAS };
      case 'new fd': {
        const on = requireHostId(command, hostId);
        return { hostId: on, tenantId: scope.tenantId, decideContext: await this.quotas.load(scope.tenantId) };
      }
      // The target of a migration, which decides on no quota.
      case 'import bar':
        return { hostId: requireHostId(command, hostId), ...(scope.tenantId === undefined ? {} : { tenantId: scope.tenantId }), decideContext: NO_QUOTAS };
      case 'fd': {
        const location = await this.fds.locate(scope.fdId, scope.actorTenantId);
        return { hostId: location.hostId, tenantId: location.tenantId, decideContext: await this.quotas.load(location.tenantId) };
      }
      default: {
        const _: never = scope;
        return _;
      }
    }
  }
}

function requireHostId(command: HostCommand, hostId: string | undefined): string {
  if (!hostId) throw new DomainError('VALIDATION_FAILED', `${command.type} needs the host it runs on`, { fields: [{ field: 'hostId', message: 'required' }] });
  return hostId;
}
