import type { DataSource } from 'typeorm';
import { EventStore } from '../store/event-store';
import { HostDirectory } from '../store/host-directory';
import { PostgresEventSource } from './postgres-source';
import { PostgresSnapshots } from './postgres-snapshots';
import type { ReplayShortcuts } from './state-at';

/** Everything a replay reads from the database: the events, and the time index and snapshots that shorten it. */
export class PostgresReplay {
  readonly source: PostgresEventSource;
  readonly shortcuts: ReplayShortcuts;

  constructor(
    dataSource: DataSource,
    events: Pick<EventStore, 'read' | 'readLines' | 'versionAt'> = new EventStore(dataSource),
    hosts: Pick<HostDirectory, 'headVersion'> = new HostDirectory(dataSource),
  ) {
    this.source = new PostgresEventSource(events, hosts);
    const snapshots = new PostgresSnapshots(dataSource, events);
    this.shortcuts = { versionAt: (hostId, at) => events.versionAt(hostId, at), nearest: (hostId, v) => snapshots.nearest(hostId, v) };
  }
}
