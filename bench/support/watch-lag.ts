import type { EventEnvelope } from '../../src/model/envelope';
import { SseStream } from '../../test/support/sse-client';

/**
 * The watch's lag of one event: from its `occurredAt` (stamped as its commit batch is written)
 * to its delivery to a watcher, in ms. Wall clock, so it holds across processes on one machine.
 */
export function watchLagMs(envelope: Pick<EventEnvelope, 'occurredAt'>): number {
  return Date.now() - Date.parse(envelope.occurredAt);
}

/** An envelope's `occurredAt` in its JSON text, found without decoding the rest: the load generator shares the service's cores. */
const OCCURRED_AT = /"occurredAt":"([^"]+)"/;

/** `count` SSE watches, watch i on `hostIds[i % hostIds.length]` (an orchestrator per host), recording each event's lag. */
export class WatchStreams {
  readonly lags: number[] = [];
  private readonly streams: SseStream[] = [];
  private readonly reading: Array<Promise<void>> = [];

  static async open(httpUrl: string, token: string, hostIds: string[], count: number): Promise<WatchStreams> {
    const watches = new WatchStreams();
    for (let i = 0; i < count; i++) {
      const stream = await SseStream.open(httpUrl, `/v1/events/watch?hostId=${encodeURIComponent(hostIds[i % hostIds.length])}`, token);
      if (stream.status !== 200) throw new Error(`watch ${i}: HTTP ${stream.status} ${await stream.text()}`);
      watches.streams.push(stream);
      watches.reading.push(watches.read(stream));
    }
    return watches;
  }

  async close(): Promise<number[]> {
    for (const stream of this.streams) stream.close();
    await Promise.all(this.reading);
    return this.lags;
  }

  private async read(stream: SseStream): Promise<void> {
    for (let message = await stream.nextEvent(); message; message = await stream.nextEvent()) {
      if (message.event === 'end') throw new Error(`a watch was ended by the server: ${message.data}`);
      const occurredAt = OCCURRED_AT.exec(message.data);
      if (!occurredAt) throw new Error(`a watch sent an event without occurredAt: ${message.data}`);
      this.lags.push(watchLagMs({ occurredAt: occurredAt[1] }));
    }
  }
}
