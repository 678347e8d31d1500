import { freePort, startNode, type NodeProcess } from './node-process';
import { waitFor200, type ServerProcess } from './server-process';

/**
 * The real server (`node dist/src/main.js`) that a test can SIGKILL and start again on the
 * same ports, so clients keep one address across crashes. Output of every incarnation is kept.
 */
export class RestartableServer {
  private current?: NodeProcess;
  private readonly pastOutput: string[] = [];
  kills = 0;
  starts = 0;

  private constructor(
    readonly port: number,
    readonly grpcPort: number,
    private readonly env: Record<string, string>,
  ) {}

  static async create(env: Record<string, string>): Promise<RestartableServer> {
    return new RestartableServer(await freePort(), await freePort(), env);
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  get running(): boolean {
    return this.current !== undefined;
  }

  /** Starts an incarnation and waits until it is ready (`readyPath` answers 200). */
  async start(readyPath = '/readyz'): Promise<void> {
    if (this.current) throw new Error('the server is already running');
    this.starts++;
    const proc = startNode('dist/src/main.js', { PORT: String(this.port), GRPC_PORT: String(this.grpcPort), ...this.env });
    this.current = proc;
    await waitFor200(this.asServer(proc), readyPath);
  }

  /**
   * Waits until the running incarnation answers 200 on `readyPath` again (a projector is not
   * ready while its consumer group rebalances after a fault); the readiness body.
   */
  async ready(readyPath = '/readyz'): Promise<any> {
    const proc = this.current;
    if (!proc) throw new Error('the server is not running');
    return JSON.parse((await waitFor200(this.asServer(proc), readyPath)).body);
  }

  private asServer(proc: NodeProcess): ServerProcess {
    return { ...proc, url: this.url, port: this.port, grpcPort: this.grpcPort };
  }

  /** SIGKILL: no shutdown hook runs, in-flight requests and transactions die with the process. */
  async kill(): Promise<void> {
    const proc = this.current;
    if (!proc) return;
    this.current = undefined;
    this.kills++;
    proc.child.kill('SIGKILL');
    await proc.exited;
    this.pastOutput.push(proc.stdout(), proc.stderr());
  }

  /** A graceful stop (SIGTERM) at the end of a test; SIGKILL if it does not end. */
  async stop(): Promise<void> {
    const proc = this.current;
    if (!proc) return;
    this.current = undefined;
    proc.child.kill('SIGTERM');
    // A shutdown that hangs must not hang the suite: SIGKILL after a bound.
    const timer = setTimeout(() => proc.child.kill('SIGKILL'), 20_000);
    await proc.exited;
    clearTimeout(timer);
    this.pastOutput.push(proc.stdout(), proc.stderr());
  }

  /** stdout and stderr of every incarnation so far, the running one included. */
  output(): string {
    return [...this.pastOutput, this.current?.stdout() ?? '', this.current?.stderr() ?? ''].join('\n');
  }
}
