import { QueryHandler, type IQueryHandler } from '@nestjs/cqrs';
import type { HostView } from '../../model';
import { hostView } from '../../domain';
import { DomainError } from '../../model/errors';
import { HostDirectory, type HostEntry } from '../../store/host-directory';
import { decodeListToken, encodeListToken } from '../../store/list-page-token';
import { GetHostQuery, ListHostsQuery } from '../messages';
import { initialHostState } from '../../composition/host-state';
import { pageOf, pageSizeOf } from './list-page';

/** Hosts are answered from the directory (the host as its last change left it + head version): no stream is loaded. */
function viewOf(entry: HostEntry): HostView {
  return hostView({ ...initialHostState(), host: entry.host, version: entry.version })!;
}

export interface HostPage {
  hosts: HostView[];
  nextPageToken?: string;
}

@QueryHandler(ListHostsQuery)
export class ListHostsHandler implements IQueryHandler<ListHostsQuery, HostPage> {
  constructor(private readonly hosts: HostDirectory) {}

  async execute({ page }: ListHostsQuery): Promise<HostPage> {
    const size = pageSizeOf(page);
    const afterHostId = page.pageToken === undefined ? undefined : decodeListToken('hosts', page.pageToken, 1)[0];
    const { rows, nextPageToken } = pageOf(await this.hosts.list({ afterHostId, limit: size + 1 }), size, (last) => encodeListToken('hosts', [last.hostId]));
    return { hosts: rows.map(viewOf), ...(nextPageToken === undefined ? {} : { nextPageToken }) };
  }
}

@QueryHandler(GetHostQuery)
export class GetHostHandler implements IQueryHandler<GetHostQuery, HostView> {
  constructor(private readonly hosts: HostDirectory) {}

  async execute({ hostId }: GetHostQuery): Promise<HostView> {
    const entry = await this.hosts.get(hostId);
    if (!entry) throw new DomainError('NOT_FOUND', `host ${hostId} not found`, { hostId });
    return viewOf(entry);
  }
}
