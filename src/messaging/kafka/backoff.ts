import { setTimeout as sleepFor } from 'node:timers/promises';

export interface BackoffOptions {
  initialMs: number;
  maxMs: number;
}

export const DEFAULT_BACKOFF: BackoffOptions = { initialMs: 200, maxMs: 30_000 };

/** Exponential backoff with full jitter, so that replicas retrying together spread out. */
export function backoffDelay(attempt: number, { initialMs, maxMs }: BackoffOptions): number {
  const ceiling = Math.min(maxMs, initialMs * 2 ** Math.min(attempt, 30));
  return Math.max(initialMs, Math.round(Math.random() * ceiling));
}

/** Waits, or resolves early (without throwing) when `signal` aborts: shutdown must not wait out a backoff. */
export async function pause(ms: number, signal?: AbortSignal): Promise<void> {
  await sleepFor(ms, undefined, { signal }).catch(() => undefined);
}
