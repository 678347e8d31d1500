import { api, openWatch } from './api';
import { sseBatches } from './sse';
import type { EventEnvelope } from './types';

/** How often the host's log is asked for new events when the watch cannot serve: a commit shows within a second with room for the hardware read and the render. */
export const POLL_MS = 300;

/** The first wait before the watch is tried again once it could not serve; doubled after each failed try, up to WATCH_RETRY_MAX_MS. */
export const WATCH_RETRY_MS = 1000;
export const WATCH_RETRY_MAX_MS = 30_000;

/**
 * Follows a host's events as they commit, in version order, after `afterVersion`; returns the
 * function that stops (when the page is left). Through the API's watch (GET /v1/events/watch);
 * while the watch cannot serve, by polling GET /v1/events, trying the watch again with backoff
 * until it serves (delivers events or its `end`), when the polling stops. Each event is handed on
 * once: a resumed watch, or the poll taking over, may overlap what was handed on already.
 */
export function followHost(
  hostId: string,
  afterVersion: number,
  onEvents: (events: EventEnvelope[]) => void,
  onError: (error: unknown) => void,
): () => void {
  const leave = new AbortController();
  let after = afterVersion;
  const deliver = (events: EventEnvelope[]) => {
    const fresh = events.filter((e) => e.version > after);
    if (fresh.length === 0) return;
    after = fresh[fresh.length - 1].version;
    onEvents(fresh);
  };
  let polling: AbortController | undefined;
  const stopPolling = () => {
    polling?.abort();
    polling = undefined;
  };
  leave.signal.addEventListener('abort', stopPolling);
  void (async () => {
    let retry = WATCH_RETRY_MS;
    for (;;) {
      await watchHost(hostId, () => after, deliver, leave.signal, () => {
        stopPolling();
        retry = WATCH_RETRY_MS;
      });
      if (leave.signal.aborted) return;
      if (!polling) {
        polling = new AbortController();
        pollHost(hostId, () => after, deliver, onError, polling.signal);
      }
      if (!(await pause(retry, leave.signal))) return;
      retry = Math.min(2 * retry, WATCH_RETRY_MAX_MS);
    }
  })();
  return () => leave.abort();
}

/** Waits `ms`; false when the page left meanwhile. */
function pause(ms: number, signal: AbortSignal): Promise<boolean> {
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve(!signal.aborted);
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
  });
}

/**
 * Reads the host's watch, read with fetch (an EventSource cannot send the Authorization header):
 * from `after()` at first, then from the last cursor received (Last-Event-ID) whenever a stream
 * ends (the server's `event: end`, a lost connection); `serving` is called whenever it delivers
 * (events or an `end`), before the events are handed on. Resolves when the page leaves, or when
 * the watch cannot serve: it cannot be opened, or two streams in a row ended having delivered
 * nothing (no event, no `end`).
 */
async function watchHost(
  hostId: string,
  after: () => number,
  deliver: (events: EventEnvelope[]) => void,
  signal: AbortSignal,
  serving: () => void,
): Promise<void> {
  let cursor: string | undefined;
  let idle = 0;
  while (!signal.aborted && idle < 2) {
    let body: ReadableStream<Uint8Array>;
    try {
      body = await openWatch(cursor === undefined ? { hostId, afterVersion: after() } : { hostId }, cursor, signal);
    } catch {
      return;
    }
    idle++;
    try {
      for await (const batch of sseBatches(body)) {
        const events: EventEnvelope[] = [];
        let ended = false;
        for (const message of batch) {
          if (message.event === 'end') ended = true;
          else if (message.id !== undefined) {
            events.push(JSON.parse(message.data) as EventEnvelope);
            cursor = message.id;
          }
        }
        if (ended || events.length) {
          idle = 0;
          serving();
        }
        if (events.length) deliver(events);
      }
    } catch {
      // The connection was lost (or the page left): resume from the cursor, or stop.
    }
  }
}

/** Polls the host's log every POLL_MS until `signal` aborts (the page leaves, or the watch serves again); a failed read is reported and tried again. */
function pollHost(hostId: string, after: () => number, deliver: (events: EventEnvelope[]) => void, onError: (error: unknown) => void, signal: AbortSignal): void {
  let timer: ReturnType<typeof setTimeout> | undefined;
  signal.addEventListener('abort', () => clearTimeout(timer));
  const poll = async () => {
    try {
      for (;;) {
        const { events } = await api.events({ hostId, afterVersion: after(), pageSize: 1000 });
        if (signal.aborted) return;
        deliver(events);
        if (events.length < 1000) break;
      }
    } catch (error) {
      if (!signal.aborted) onError(error);
    }
    if (!signal.aborted) timer = setTimeout(poll, POLL_MS);
  };
  void poll();
}
