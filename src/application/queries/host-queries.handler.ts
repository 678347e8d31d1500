import { QueryHandler, type IQueryHandler } from '@nestjs/cqrs';
import type { HostView } from '../../model';
import { hostView } from '../../domain';
import { DomainError } from '../../model/errors';
import { HostDirectory, type HostEntry } from '../../store/host-directory';
import { GetHostQuery, ListHostsQuery } from '../messages';
import { initialHostState } from '../../composition/host-state';

/** Hosts are answered from the directory (registration + head version): no stream is loaded. */
function viewOf(entry: HostEntry): HostView {
  return hostView({ ...initialHostState(), host: entry.registration, version: entry.version })!;
}

@QueryHandler(ListHostsQuery)
export class ListHostsHandler implements IQueryHandler<ListHostsQuery, HostView[]> {
  constructor(private readonly hosts: HostDirectory) {}

  async execute(): Promise<HostView[]> {
    return (await this.hosts.list()).map(viewOf);
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
