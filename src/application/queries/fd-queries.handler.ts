import { QueryHandler, type IQueryHandler } from '@nestjs/cqrs';
import type { FdView } from '../../model';
import { fdView } from '../../domain';
import { DomainError } from '../../model/errors';
import { FdDirectory, type FdLocation } from '../../store/fd-directory';
import { decodeListToken, encodeListToken } from '../../store/list-page-token';
import { FdLocations } from '../fd-locations';
import { HostStates } from '../host-states';
import { GetFdQuery, ListFdsQuery } from '../messages';
import { tenantScopeOf } from '../principal';
import { pageOf, pageSizeOf } from './list-page';

/** Fds are read from their host's decider state at the committed head: a client reads its own writes. */
@QueryHandler(GetFdQuery)
export class GetFdHandler implements IQueryHandler<GetFdQuery, FdView> {
  constructor(
    private readonly locations: FdLocations,
    private readonly states: HostStates,
  ) {}

  async execute({ principal, fdId }: GetFdQuery): Promise<FdView> {
    const { hostId } = await this.locations.locate(fdId, tenantScopeOf(principal));
    const view = await this.states.exclusive(hostId, async () => fdView(await this.states.current(hostId), fdId));
    if (!view) throw new DomainError('NOT_FOUND', `fd ${fdId} not found`, { fdId });
    return view;
  }
}

export interface FdPage {
  fds: FdView[];
  nextPageToken?: string;
}

@QueryHandler(ListFdsQuery)
export class ListFdsHandler implements IQueryHandler<ListFdsQuery, FdPage> {
  constructor(
    private readonly directory: FdDirectory,
    private readonly states: HostStates,
  ) {}

  async execute({ principal, hostId, page }: ListFdsQuery): Promise<FdPage> {
    const size = pageSizeOf(page);
    const after = page.pageToken === undefined ? undefined : decodeListToken('fds', page.pageToken, 2);
    const located = await this.directory.listOpen({
      tenantId: tenantScopeOf(principal),
      hostId,
      ...(after ? { after: { hostId: after[0], fdId: after[1] } } : {}),
      limit: size + 1,
    });
    const { rows: open, nextPageToken } = pageOf(located, size, (last) => encodeListToken('fds', [last.hostId, last.fdId]));
    return { fds: await this.views(open), ...(nextPageToken === undefined ? {} : { nextPageToken }) };
  }

  /** The fds' views at their hosts' committed heads; an fd closed since the directory was read is left out. */
  private async views(open: FdLocation[]): Promise<FdView[]> {
    const byHost = new Map<string, string[]>();
    for (const fd of open) byHost.set(fd.hostId, [...(byHost.get(fd.hostId) ?? []), fd.fdId]);
    const views: FdView[] = [];
    for (const [host, fdIds] of byHost) {
      const hostViews = await this.states.exclusive(host, async () => {
        const current = await this.states.current(host);
        // Views are taken under the lock: the state is mutated in place by the next command.
        return fdIds.map((id) => fdView(current, id));
      });
      for (const view of hostViews) if (view) views.push(view);
    }
    return views;
  }
}
