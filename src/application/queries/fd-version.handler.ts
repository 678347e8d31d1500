import { QueryHandler, type IQueryHandler } from '@nestjs/cqrs';
import { FdVersions } from '../../store/fd-versions';
import { FdLocations } from '../fd-locations';
import { tenantScopeOf, type Principal } from '../principal';

/**
 * The fd's version (the host version of its last change) as of host version `atOrBelow`: the
 * ETag of GET /v1/fds/{fdId}, read for the view answered at that version. NOT_FOUND like the fd.
 */
export class GetFdVersionQuery {
  constructor(
    readonly principal: Principal,
    readonly fdId: string,
    readonly atOrBelow: number,
  ) {}
}

@QueryHandler(GetFdVersionQuery)
export class GetFdVersionHandler implements IQueryHandler<GetFdVersionQuery, number> {
  constructor(
    private readonly locations: FdLocations,
    private readonly versions: FdVersions,
  ) {}

  async execute({ principal, fdId, atOrBelow }: GetFdVersionQuery): Promise<number> {
    const { hostId } = await this.locations.locate(fdId, tenantScopeOf(principal));
    return this.versions.lastChange(hostId, fdId, atOrBelow);
  }
}
