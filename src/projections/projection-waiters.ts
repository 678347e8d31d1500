interface Waiter {
  version: number;
  resolve(): void;
  reject(error: Error): void;
  timer: NodeJS.Timeout;
}

/** Callers waiting for a host's projection to reach a version (tests, read-your-writes on hardware). */
export class ProjectionWaiters {
  private readonly byHost = new Map<string, Waiter[]>();

  add(hostId: string, version: number, timeoutMs: number): Promise<void> {
    return new Promise((resolve, reject) => {
      const waiter: Waiter = {
        version,
        resolve,
        reject,
        timer: setTimeout(() => {
          this.remove(hostId, waiter);
          reject(new Error(`the projection of host ${hostId} did not reach version ${version} within ${timeoutMs} ms`));
        }, timeoutMs),
      };
      this.byHost.set(hostId, [...(this.byHost.get(hostId) ?? []), waiter]);
    });
  }

  reached(hostId: string, version: number): void {
    for (const waiter of this.byHost.get(hostId) ?? []) {
      if (waiter.version > version) continue;
      this.remove(hostId, waiter);
      waiter.resolve();
    }
  }

  rejectAll(error: Error): void {
    for (const [hostId, waiters] of this.byHost) {
      for (const waiter of waiters) {
        this.remove(hostId, waiter);
        waiter.reject(error);
      }
    }
  }

  private remove(hostId: string, waiter: Waiter): void {
    clearTimeout(waiter.timer);
    const rest = (this.byHost.get(hostId) ?? []).filter((w) => w !== waiter);
    if (rest.length) this.byHost.set(hostId, rest);
    else this.byHost.delete(hostId);
  }
}
