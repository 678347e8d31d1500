import type { Rid } from '../../model/values';
import type { Principal } from '../principal';

/** What a migration is asked to do (DOMAIN.md operation 12): the fd, where it goes, and its devices there. */
export interface MigrationRequest {
  fdId: string;
  targetHostId: string;
  /** source RID -> target RID */
  deviceMap: Record<Rid, Rid>;
}

/** Returns the MigrationRecord; another tenant's migration is NOT_FOUND, exactly like a missing one. */
export class GetMigrationQuery {
  constructor(
    readonly principal: Principal,
    readonly migrationId: string,
  ) {}
}
