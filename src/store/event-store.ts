import { Injectable, Logger } from '@nestjs/common';
import { DataSource } from 'typeorm';
import type { EventEnvelope } from '../model/envelope';
import type { EventPage, HostEvent } from '../model/events';
import type { AppendRequest } from './append-request';
import type { EnvelopeLine } from './envelope-rows';
import { EventReads, type AuditFilter, type StreamRange } from './event-reads';
import { GroupCommitter } from './group-commit';

export type CommitListener = (envelopes: EventEnvelope[]) => void;

/**
 * The host event streams: appends with expected version (group-committed with their outbox
 * rows, directory changes and idempotency record), and every read of the events table.
 */
@Injectable()
export class EventStore {
  private readonly logger = new Logger(EventStore.name);
  private readonly listeners = new Set<CommitListener>();
  private readonly committer: GroupCommitter;
  private readonly reads: EventReads;

  constructor(dataSource: DataSource) {
    this.committer = new GroupCommitter(dataSource, (envelopes) => this.notify(envelopes));
    this.reads = new EventReads(dataSource);
  }

  /**
   * Appends a command's events if the host is still at `expectedVersion`. Rejects with
   * VERSION_CONFLICT if it is not, IdempotencyKeyTaken if a concurrent request committed the
   * same key, UNAVAILABLE if the database cannot be reached. Resolves once committed.
   */
  append(request: AppendRequest): Promise<EventEnvelope[]> {
    return this.committer.append(request);
  }

  /** Called after each commit with the envelopes committed (the outbox relay wakes on it). */
  onCommit(listener: CommitListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Waits for appends already queued. */
  flush(): Promise<void> {
    return this.committer.flush();
  }

  /** A host's events after `afterVersion` (up to `toVersion`), in version-ordered batches: flat memory for long streams. */
  stream(hostId: string, range?: StreamRange): AsyncGenerator<EventEnvelope[]> {
    return this.reads.stream(hostId, range);
  }

  /** The domain events of `stream` alone (type and data), in the same batches: cheaper to read, for evolving a state. */
  streamEvents(hostId: string, range?: StreamRange): AsyncGenerator<HostEvent[]> {
    return this.reads.streamEvents(hostId, range);
  }

  /** A host's events with afterVersion < version <= toVersion: for short ranges (catch-up, gaps). */
  read(hostId: string, afterVersion: number, toVersion?: number): Promise<EventEnvelope[]> {
    return this.reads.range(hostId, afterVersion, toVersion);
  }

  /** The events of `read`, each as the text its hash covers and that hash: what a replay proves without re-serializing. */
  readLines(hostId: string, afterVersion: number, toVersion?: number): Promise<EnvelopeLine[]> {
    return this.reads.lines(hostId, afterVersion, toVersion);
  }

  /** The last version of a host committed at or before `at`. */
  versionAt(hostId: string, at: Date): Promise<number> {
    return this.reads.versionAt(hostId, at);
  }

  /** The audit log page; `tenantId` restricts it to one tenant's events. */
  list(filter: AuditFilter): Promise<EventPage> {
    return this.reads.list(filter);
  }

  private notify(envelopes: EventEnvelope[]): void {
    for (const listener of this.listeners) {
      try {
        listener(envelopes);
      } catch (e) {
        this.logger.error(`commit listener failed: ${e instanceof Error ? e.message : String(e)}`);
      }
    }
  }
}
