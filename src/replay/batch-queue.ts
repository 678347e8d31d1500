/**
 * A bounded hand-over between a pushing producer (a Kafka consumer's batch callback) and a
 * pulling async iteration (the replay): the producer waits while `capacity` batches are
 * unread, so a slow replay holds the consumer back instead of filling memory.
 */
export class BatchQueue<T> implements AsyncIterable<T> {
  private readonly items: T[] = [];
  private ended = false;
  private abandoned = false;
  private failure: { error: unknown } | undefined;
  private wakeReader: (() => void) | undefined;
  private wakeWriters: Array<() => void> = [];

  constructor(private readonly capacity = 8) {}

  /** Resolves once the batch is taken into the queue (or the reader has gone). */
  async push(item: T): Promise<void> {
    while (!this.abandoned && this.items.length >= this.capacity) {
      await new Promise<void>((resolve) => this.wakeWriters.push(resolve));
    }
    if (this.abandoned) return;
    this.items.push(item);
    this.wake();
  }

  /** No more batches: the iteration ends once the queued ones are read. */
  end(): void {
    this.ended = true;
    this.wake();
  }

  /** The producer failed: the iteration throws `error` after the queued batches. */
  fail(error: unknown): void {
    this.failure ??= { error };
    this.end();
  }

  async *[Symbol.asyncIterator](): AsyncGenerator<T> {
    try {
      for (;;) {
        if (this.items.length > 0) {
          yield this.items.shift()!;
          this.releaseWriters();
          continue;
        }
        if (this.ended) {
          if (this.failure) throw this.failure.error;
          return;
        }
        await new Promise<void>((resolve) => (this.wakeReader = resolve));
      }
    } finally {
      // The reader stopped (done, failed or broke off): nothing waits on the producer any more.
      this.abandoned = true;
      this.items.length = 0;
      this.releaseWriters();
    }
  }

  private wake(): void {
    const wake = this.wakeReader;
    this.wakeReader = undefined;
    wake?.();
  }

  private releaseWriters(): void {
    const writers = this.wakeWriters;
    this.wakeWriters = [];
    for (const w of writers) w();
  }
}
