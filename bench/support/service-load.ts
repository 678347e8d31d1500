import { fork, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import type { Measurement } from './service-measure';

export type LoadRequest =
  | { kind: 'setup'; httpUrl: string; operatorToken: string; hosts: number; maxClients: number }
  | { kind: 'service'; clients: number; seconds: number; watchers: number }
  | { kind: 'rawPg' | 'emmett'; databaseUrl: string; clients: number; seconds: number };

export type LoadReply = { measurement?: Measurement; error?: string };

/** The load generator process (service-load-process.ts): one request at a time, answered with its measurement. */
export class LoadGenerator {
  private readonly child: ChildProcess;

  constructor() {
    this.child = fork(join(__dirname, 'service-load-process.js'), [], { stdio: 'inherit', execArgv: [] });
  }

  request(request: LoadRequest): Promise<Measurement | undefined> {
    return new Promise((resolve, reject) => {
      const onExit = (code: number | null) => reject(new Error(`load generator exited (${code})`));
      this.child.once('exit', onExit);
      this.child.once('message', (reply: LoadReply) => {
        this.child.off('exit', onExit);
        if (reply.error !== undefined) reject(new Error(`load generator: ${reply.error}`));
        else resolve(reply.measurement);
      });
      this.child.send(request);
    });
  }

  async measure(request: LoadRequest): Promise<Measurement> {
    const measurement = await this.request(request);
    if (!measurement) throw new Error(`${request.kind}: no measurement`);
    return measurement;
  }

  close(): void {
    if (this.child.connected) this.child.disconnect();
  }
}
