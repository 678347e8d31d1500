interface Waiting<T> {
  items: T[];
  weight: number;
  queuedAt: number;
  resolve(): void;
  reject(error: unknown): void;
}

/**
 * One `run` at a time: items pushed while one runs wait and go together into the next, up
 * to a budget (at least one push each time, whatever its weight). Items keep their push
 * order. Kafka round trips and projection transactions cost about the same for one item as
 * for many, so under load this trades a little waiting for many fewer of them.
 */
export class CoalescingQueue<T> {
  private readonly waiting: Array<Waiting<T>> = [];
  private running: Array<Waiting<T>> = [];

  constructor(
    private readonly run: (items: T[]) => Promise<void>,
    private readonly weightOf: (item: T) => number,
    private readonly budget: number,
  ) {}

  /** Resolves once a run that included the items resolved; rejects with the error of that run. */
  push(items: T[]): Promise<void> {
    return new Promise((resolve, reject) => {
      const weight = items.reduce((sum, item) => sum + this.weightOf(item), 0);
      this.waiting.push({ items, weight, queuedAt: Date.now(), resolve, reject });
      this.next();
    });
  }

  /** When the longest-waiting unfinished push was made; undefined when none waits. */
  oldestQueuedAt(): number | undefined {
    return this.running[0]?.queuedAt ?? this.waiting[0]?.queuedAt;
  }

  private next(): void {
    if (this.running.length > 0 || this.waiting.length === 0) return;
    const taken = this.waiting.splice(0, countWithin(this.waiting, (w) => w.weight, this.budget));
    this.running = taken;
    this.run(taken.flatMap((w) => w.items))
      .then(
        () => taken.forEach((w) => w.resolve()),
        (e: unknown) => taken.forEach((w) => w.reject(e)),
      )
      .finally(() => {
        this.running = [];
        this.next();
      });
  }
}

/** How many leading items fit in `budget` (at least one, when there is one). */
export function countWithin<T>(items: readonly T[], weightOf: (item: T) => number, budget: number): number {
  let count = 0;
  let total = 0;
  while (count < items.length && (count === 0 || total + weightOf(items[count]) <= budget)) total += weightOf(items[count++]);
  return count;
}
