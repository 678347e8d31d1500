import { createConnection, createServer, type Server, type Socket } from 'node:net';

/**
 * What the network between the app and its database does:
 * - `open`: bytes flow;
 * - `refuse`: every connection is reset and new ones are dropped at once (the database host is down);
 * - `blackhole`: connections stay up but nothing comes back (a partition: only timeouts notice).
 */
export type LinkState = 'open' | 'refuse' | 'blackhole';

interface Link {
  client: Socket;
  upstream: Socket;
}

/**
 * A loopback TCP proxy on one fixed port whose link can be cut and restored while the app keeps
 * its address (test/support/tcp-proxy.ts can only cut for good). Used between the app and
 * PostgreSQL: the machine's PostgreSQL itself is never stopped.
 */
export class FaultyLink {
  private readonly links = new Set<Link>();
  private server?: Server;
  private mode: LinkState = 'open';
  port = 0;

  private constructor(private readonly target: { host: string; port: number }) {}

  static async start(target: { host: string; port: number }): Promise<FaultyLink> {
    const link = new FaultyLink(target);
    const server = createServer((client) => link.accept(client));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    link.server = server;
    link.port = (server.address() as { port: number }).port;
    return link;
  }

  get state(): LinkState {
    return this.mode;
  }

  /** Connections currently held (for the report: how many the app had open when cut). */
  get openLinks(): number {
    return this.links.size;
  }

  set(state: LinkState): void {
    this.mode = state;
    if (state === 'refuse') this.dropAll();
    if (state === 'blackhole') for (const l of this.links) this.stall(l);
    // Back to open: connections that went through a partition are in an unknown state, as after a
    // real one whose TCP timers fired; the app must notice and reconnect.
    if (state === 'open') for (const l of this.links) if (l.client.isPaused()) this.drop(l);
  }

  async close(): Promise<void> {
    this.dropAll();
    const server = this.server;
    this.server = undefined;
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  private accept(client: Socket): void {
    client.on('error', () => undefined);
    if (this.mode === 'refuse') {
      client.resetAndDestroy();
      return;
    }
    const upstream = createConnection(this.target);
    upstream.on('error', () => undefined);
    const link = { client, upstream };
    this.links.add(link);
    const forget = () => this.drop(link);
    client.on('close', forget);
    upstream.on('close', forget);
    if (this.mode === 'blackhole') {
      this.stall(link);
      return;
    }
    client.on('data', (d: Buffer) => this.forward(link, upstream, d));
    upstream.on('data', (d: Buffer) => this.forward(link, client, d));
  }

  /** Bytes pass only while the link is open; in a blackhole they are swallowed. */
  private forward(link: Link, to: Socket, data: Buffer): void {
    if (this.mode !== 'open' || link.client.isPaused()) return;
    to.write(data);
  }

  private stall(link: Link): void {
    link.client.pause();
    link.upstream.pause();
  }

  private drop(link: Link): void {
    if (!this.links.delete(link)) return;
    link.client.resetAndDestroy();
    link.upstream.destroy();
  }

  private dropAll(): void {
    for (const l of [...this.links]) this.drop(l);
  }
}
