import assert from 'node:assert/strict';
import type { EventEnvelope } from '../../src/model/envelope';

/**
 * Everything the handlers of one or more subscribers received, in the order they received
 * it, and the checks the transport promises about it: every event at least once, and per
 * host in version order, a repeat being only a redelivery from an earlier point.
 */
export class DeliveryLog {
  readonly calls: Array<{ consumer: string; events: EventEnvelope[] }> = [];
  private readonly seen = new Map<string, Set<number>>();

  handler(consumer: string): (events: EventEnvelope[]) => Promise<void> {
    return async (events) => {
      this.calls.push({ consumer, events });
      for (const e of events) {
        let versions = this.seen.get(e.hostId);
        if (!versions) this.seen.set(e.hostId, (versions = new Set()));
        versions.add(e.version);
      }
    };
  }

  distinctCount(): number {
    let n = 0;
    for (const versions of this.seen.values()) n += versions.size;
    return n;
  }

  deliveredCount(): number {
    return this.calls.reduce((n, c) => n + c.events.length, 0);
  }

  /** Every version 1..count of every host arrived. */
  assertComplete(expected: Map<string, number>): void {
    for (const [host, count] of expected) {
      const versions = this.seen.get(host) ?? new Set();
      const missing = [];
      for (let v = 1; v <= count; v++) if (!versions.has(v)) missing.push(v);
      assert.deepEqual(missing, [], `host ${host}: versions never delivered`);
    }
    assert.deepEqual([...this.seen.keys()].filter((h) => !expected.has(h)), [], 'events of unknown hosts');
  }

  /**
   * Replaying the log in arrival order, a host's next event from a consumer is either the
   * version after that consumer's previous one, or (a redelivery after a rebalance or a
   * retry) a version at most one past the highest any consumer delivered so far. So a
   * projector never meets a version whose predecessor it has not been given.
   */
  assertPerHostOrder(): void {
    const highest = new Map<string, number>();
    const lastOf = new Map<string, number>();
    for (const { consumer, events } of this.calls) {
      for (const e of events) {
        const key = `${consumer}|${e.hostId}`;
        const last = lastOf.get(key);
        const top = highest.get(e.hostId) ?? 0;
        if (last === undefined || e.version !== last + 1) {
          assert.ok(e.version <= top + 1, `host ${e.hostId}: ${consumer} jumped to version ${e.version} while only ${top} had been delivered`);
        }
        lastOf.set(key, e.version);
        highest.set(e.hostId, Math.max(top, e.version));
      }
    }
  }
}

/** Polls until `condition` holds; fails with `what` after `timeoutMs` (a hang guard, not a timing assertion). */
export async function waitUntil(condition: () => boolean, what: string, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
