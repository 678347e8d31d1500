import { performance } from 'node:perf_hooks';

export interface Measurement {
  clients: number;
  ops: number;
  seconds: number;
  /** Per-operation latencies in ms (service only). */
  latencies: number[];
  /** Commit-to-delivery lag of each event delivered to the open watches, in ms (service with watchers only). */
  watchLags?: number[];
}

export const perSec = (m: Measurement): number => m.ops / m.seconds;

export function percentile(latencies: number[], p: number): number {
  const sorted = [...latencies].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];
}

/** Runs `clients` loops of `step` for `seconds`; each step returns how many operations it did. */
export async function measure(clients: number, seconds: number, step: (client: number, latencies: number[]) => Promise<number>): Promise<Measurement> {
  const deadline = performance.now() + seconds * 1000;
  const latencies: number[] = [];
  const start = performance.now();
  const counts = await Promise.all(
    Array.from({ length: clients }, async (_, client) => {
      let ops = 0;
      while (performance.now() < deadline) ops += await step(client, latencies);
      return ops;
    }),
  );
  return { clients, ops: counts.reduce((a, b) => a + b, 0), seconds: (performance.now() - start) / 1000, latencies };
}
