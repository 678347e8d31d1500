// The shapes of the REST answers the console reads (docs/API.md). The views and the event
// envelope are the server's own declarations (these leaf files of src/model import nothing but
// each other, so the browser build can read their types).
export type { EntryView, FdView, HardwareView, HostView, IoasidView, MigrationRecord, VerifyResult, WhoAmIView } from '../../src/model/views';
export type { EventEnvelope, EventPage } from '../../src/model/events';
export type { PasidRange } from '../../src/model/values';
