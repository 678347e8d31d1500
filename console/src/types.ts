// The shapes of the REST answers the console reads (docs/API.md). The views and the event
// envelope are the server's own declarations (these leaf files of src/model import nothing but
// each other, so the browser build can read their types).
export type { EntryView, FdView, HardwareView, HostView, IoasidView, VerifyResult, WhoAmIView } from '../../src/model/views';
import type { EventEnvelope } from '../../src/model/events';

export type { EventEnvelope };
export type { PasidRange } from '../../src/model/values';

export interface EventPage {
  events: EventEnvelope[];
  nextPageToken?: string;
}

export interface MigrationRecord {
  migrationId: string;
  fdId: string;
  sourceHostId: string;
  targetHostId: string;
  state: string;
  targetFdId?: string;
  reason?: string;
  startedAt: string;
  endedAt?: string;
}
