/**
 * A perfect FIFO over `perTarget` slots on each of `targets` targets (replicas, responders): a call
 * takes a free slot (round robin over the targets) or waits, and each freed slot passes straight to
 * the oldest waiting call. The limit any client that respects a per-replica cap can reach.
 */
export class FifoSlots {
  private readonly inFlight: number[];
  private readonly waiters: ((target: number) => void)[] = [];
  private head = 0;
  private next = 0;

  constructor(
    private readonly targets: number,
    private readonly perTarget: number,
  ) {
    this.inFlight = new Array<number>(targets).fill(0);
  }

  /** A target with a free slot, now or once one frees. */
  acquire(): number | Promise<number> {
    for (let k = 0; k < this.targets; k++) {
      const r = (this.next + k) % this.targets;
      if (this.inFlight[r]! < this.perTarget) {
        this.next = r + 1;
        this.inFlight[r]!++;
        return r;
      }
    }
    return new Promise<number>((resolve) => this.waiters.push(resolve));
  }

  /** Frees a slot of `target`: the oldest waiting call gets it at once. */
  release(target: number): void {
    if (this.head < this.waiters.length) {
      const w = this.waiters[this.head]!;
      this.waiters[this.head++] = undefined as never;
      if (this.head > 1024 && this.head * 2 > this.waiters.length) {
        this.waiters.splice(0, this.head);
        this.head = 0;
      }
      w(target);
    } else this.inFlight[target]!--;
  }
}
