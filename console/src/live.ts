import { api } from './api';
import type { EventEnvelope } from './types';

/** How often the host's log is asked for new events while a page follows it: a commit shows within a second with room for the hardware read and the render. */
export const POLL_MS = 300;

/**
 * Follows a host's events as they commit, in version order, after `afterVersion`; returns
 * the function that stops. The one place that knows how: it polls GET /v1/events today and
 * is where the event stream's watch (SSE) takes over once the API offers it.
 */
export function followHost(
  hostId: string,
  afterVersion: number,
  onEvents: (events: EventEnvelope[]) => void,
  onError: (error: unknown) => void,
): () => void {
  let stopped = false;
  let after = afterVersion;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const poll = async () => {
    try {
      for (;;) {
        const { events } = await api.events({ hostId, afterVersion: after, pageSize: 1000 });
        if (stopped) return;
        if (events.length === 0) break;
        after = events[events.length - 1].version;
        onEvents(events);
        if (events.length < 1000) break;
      }
    } catch (error) {
      if (!stopped) onError(error);
    }
    if (!stopped) timer = setTimeout(poll, POLL_MS);
  };
  void poll();
  return () => {
    stopped = true;
    clearTimeout(timer);
  };
}
