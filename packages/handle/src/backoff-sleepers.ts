import type { PendingRequest } from "./pending-request.js";

/** A request sleeping in backoff; `wake` ends the sleep early and says whether it did. */
interface Sleeper {
  req: PendingRequest;
  wake: () => boolean;
}

/**
 * The requests of one deployment sleeping in backoff, oldest first. A request of this handle that
 * finishes on a replica with room wakes the oldest sleeper at once, so a freed slot is taken now
 * rather than at the end of a sleep of up to 500 ms. Only one is woken: waking all would send a
 * herd of probes for one free slot.
 */
export class BackoffSleepers {
  private readonly sleepers: Sleeper[] = [];

  /** Number of requests sleeping. */
  get size(): number {
    return this.sleepers.length;
  }

  /** Sleeps `ms` unless woken earlier by {@link wakeOne}. */
  sleep(req: PendingRequest, ms: number): Promise<void> {
    return new Promise<void>((resolve) => {
      let pending = true;
      const sleeper: Sleeper = {
        req,
        wake: () => {
          if (!pending) return false;
          pending = false;
          clearTimeout(timer);
          resolve();
          return true;
        },
      };
      const timer = setTimeout(() => {
        sleeper.wake();
        const i = this.sleepers.indexOf(sleeper);
        if (i >= 0) this.sleepers.splice(i, 1);
      }, ms);
      timer.unref();
      this.sleepers.push(sleeper);
    });
  }

  /** Wakes the oldest sleeper whose request is still live. */
  wakeOne(): void {
    while (this.sleepers.length > 0) {
      const s = this.sleepers.shift()!;
      if (!s.req.done && s.wake()) return;
    }
  }
}
