import { fork, type ChildProcess } from 'node:child_process';
import { setPriority } from 'node:os';
import { join } from 'node:path';
import type { Measurement } from './service-measure';

export type LoadRequest =
  | { kind: 'setup'; httpUrl: string; operatorToken: string; hosts: number; maxClients: number }
  | { kind: 'service'; clients: number; seconds: number }
  | { kind: 'rawPg' | 'emmett'; databaseUrl: string; clients: number; seconds: number }
  /** Opens `count` SSE watches, watch i on `hostIds[i % hostIds.length]` (an orchestrator per host); `closeWatches` answers their lags. */
  | { kind: 'openWatches'; httpUrl: string; token: string; hostIds: string[]; count: number }
  | { kind: 'closeWatches' };

export type LoadReply = { measurement?: Measurement; error?: string };

/** The name of the benchmark's i-th host. */
export const benchHostId = (i: number): string => `bench-host-${i}`;

/**
 * A load generator process (service-load-process.ts): one request at a time, answered with its
 * measurement. `niceness` lowers its CPU priority: clients that stand for programs on other
 * machines then take only the CPU the service and PostgreSQL leave idle.
 */
export class LoadGenerator {
  private readonly child: ChildProcess;

  constructor(niceness = 0) {
    this.child = fork(join(__dirname, 'service-load-process.js'), [], { stdio: 'inherit', execArgv: [] });
    if (niceness) setPriority(this.child.pid!, niceness);
  }

  get pid(): number {
    return this.child.pid!;
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
