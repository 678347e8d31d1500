import type { Consumer } from 'kafkajs';

/**
 * Commits the offsets of handled events every interval rather than after every batch:
 * a commit is a round trip to the group coordinator that would otherwise sit between each
 * batch and the next fetch. Only handled offsets are ever committed, so delivery stays at
 * least once; after a crash or a rebalance, at most one interval of events is delivered
 * again, and the projector drops them.
 */
export class OffsetCommitter {
  /** partition -> the next offset to read, handled but not yet committed */
  private readonly pending = new Map<number, string>();
  private readonly timer: NodeJS.Timeout;
  private committing: Promise<void> = Promise.resolve();

  constructor(
    private readonly consumer: Consumer,
    private readonly topic: string,
    intervalMs: number,
    private readonly onError: (error: unknown) => void,
  ) {
    this.timer = setInterval(() => void this.commit(), intervalMs);
    this.timer.unref();
  }

  handled(partition: number, offset: string): void {
    this.pending.set(partition, (BigInt(offset) + 1n).toString());
  }

  /** After a rebalance: offsets of partitions now owned elsewhere are the new owner's to commit. */
  keepOnly(partitions: number[]): void {
    for (const partition of this.pending.keys()) if (!partitions.includes(partition)) this.pending.delete(partition);
  }

  /** Commits what is pending (one commit at a time); a failed commit is tried again at the next one. */
  commit(): Promise<void> {
    this.committing = this.committing.then(async () => {
      const offsets = [...this.pending].map(([partition, offset]) => ({ topic: this.topic, partition, offset }));
      if (offsets.length === 0) return;
      try {
        await this.consumer.commitOffsets(offsets);
      } catch (e) {
        this.onError(e);
        return;
      }
      for (const { partition, offset } of offsets) if (this.pending.get(partition) === offset) this.pending.delete(partition);
    });
    return this.committing;
  }

  /** Stops the timer and commits what was handled, before the consumer leaves its group. */
  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.commit();
  }
}
