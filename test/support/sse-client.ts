import { request, type ClientRequest, type IncomingMessage } from 'node:http';

/** One Server-Sent Events message: a comment, or an event with its id, type and data. */
export type SseMessage = { comment: string } | { id?: string; event?: string; data: string };

/**
 * A watch over HTTP as an EventSource would read it: the status and headers, then each message
 * in order. Reading is pull-based (`next`), so a test can also stop reading (a slow client).
 */
export class SseStream {
  private readonly messages: SseMessage[] = [];
  private waiting?: () => void;
  private buffer = '';
  ended = false;

  private constructor(
    private readonly req: ClientRequest,
    readonly res: IncomingMessage,
  ) {
    res.setEncoding('utf8');
    res.on('data', (chunk: string) => this.parse(chunk));
    const end = () => {
      this.ended = true;
      this.wake();
    };
    res.on('end', end);
    res.on('close', end);
    res.on('error', end);
  }

  /** Opens `path` (with `?...`) with a bearer token and extra headers; resolves once the answer's headers arrived. */
  static open(baseUrl: string, path: string, token: string, headers: Record<string, string> = {}): Promise<SseStream> {
    const url = new URL(path, baseUrl);
    return new Promise((resolve, reject) => {
      const req = request(url, { headers: { authorization: `Bearer ${token}`, accept: 'text/event-stream', ...headers } }, (res) => resolve(new SseStream(req, res)));
      req.on('error', reject);
      req.end();
    });
  }

  get status(): number {
    return this.res.statusCode ?? 0;
  }

  /** The whole body of a refused watch (a JSON error). */
  async text(): Promise<string> {
    while (!this.ended) await new Promise<void>((resolve) => (this.waiting = resolve));
    return this.buffer;
  }

  /** The next message, or undefined once the stream ended. */
  async next(): Promise<SseMessage | undefined> {
    for (;;) {
      const message = this.messages.shift();
      if (message) return message;
      if (this.ended) return undefined;
      await new Promise<void>((resolve) => (this.waiting = resolve));
    }
  }

  /** The next event (comments skipped), or undefined once the stream ended. */
  async nextEvent(): Promise<{ id?: string; event?: string; data: string } | undefined> {
    for (;;) {
      const message = await this.next();
      if (!message || !('comment' in message)) return message;
    }
  }

  /** Stops reading from the socket (a client that reads nothing more) or reads again. */
  pause(paused: boolean): void {
    if (paused) this.res.pause();
    else this.res.resume();
  }

  close(): void {
    this.req.destroy();
  }

  private parse(chunk: string): void {
    this.buffer += chunk;
    if ((this.res.headers['content-type'] ?? '').startsWith('text/event-stream')) {
      let end: number;
      while ((end = this.buffer.indexOf('\n\n')) >= 0) {
        const block = this.buffer.slice(0, end);
        this.buffer = this.buffer.slice(end + 2);
        this.messages.push(parseBlock(block));
      }
    }
    this.wake();
  }

  private wake(): void {
    const waiting = this.waiting;
    this.waiting = undefined;
    waiting?.();
  }
}

function parseBlock(block: string): SseMessage {
  if (block.startsWith(':')) return { comment: block.slice(1).trim() };
  const message: { id?: string; event?: string; data: string } = { data: '' };
  for (const line of block.split('\n')) {
    const colon = line.indexOf(': ');
    const field = line.slice(0, colon);
    const value = line.slice(colon + 2);
    if (field === 'id') message.id = value;
    else if (field === 'event') message.event = value;
    else if (field === 'data') message.data += value;
  }
  return message;
}
