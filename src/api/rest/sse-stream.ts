import type { OutgoingHttpHeaders, ServerResponse } from 'node:http';
import type { WatchItem, WatchSubscription } from '../../application/watch/watch-subscription';

/** A comment line at least this often keeps proxies from closing an idle stream (API.md: at least every 15 s). */
const SSE_HEARTBEAT_MS = 10_000;
/** A client that does not take the last bytes of an ended stream within this loses its connection. */
const END_GRACE_MS = 5_000;

/** One watch item as Server-Sent Events: `id:` the cursor, `event:` the type, `data:` the envelope (JSON has no raw newline). */
function sseFrame(item: WatchItem): string {
  switch (item.kind) {
    case 'event':
      return `id: ${item.cursor}\nevent: ${item.event.type}\ndata: ${item.event.json}\n\n`;
    case 'end':
      return `event: end\ndata: ${JSON.stringify({ reason: item.reason, message: item.message })}\n\n`;
    default: {
      const _: never = item;
      return _;
    }
  }
}

/**
 * Streams a watch to an HTTP response as `text/event-stream` (with `headers`, those the
 * request's hooks set, like x-correlation-id) until the client leaves or the
 * watch ends (an `end` event says why, then the response ends). Writes wait for the socket
 * to drain: what a slow client does not take stays in the subscription, which bounds it.
 */
export async function streamSse(res: ServerResponse, subscription: WatchSubscription, headers: OutgoingHttpHeaders = {}): Promise<void> {
  res.writeHead(200, {
    ...headers,
    'content-type': 'text/event-stream; charset=utf-8',
    'cache-control': 'no-cache, no-transform',
    // nginx and similar proxies would otherwise buffer the stream.
    'x-accel-buffering': 'no',
  });
  res.write(': watching\n\n');
  const heartbeat = setInterval(() => res.write(': keep-alive\n\n'), SSE_HEARTBEAT_MS);
  const gone = new Promise<void>((resolve) => res.once('close', resolve)).then(() => subscription.close());
  try {
    for await (const item of subscription) {
      const flowing = res.write(sseFrame(item));
      if (item.kind === 'end') break;
      if (!flowing) await Promise.race([new Promise<void>((resolve) => res.once('drain', resolve)), gone]);
    }
  } finally {
    clearInterval(heartbeat);
    if (!res.writableEnded) {
      res.end();
      const hangUp = setTimeout(() => res.destroy(), END_GRACE_MS);
      hangUp.unref();
      res.once('finish', () => clearTimeout(hangUp));
    }
  }
}
