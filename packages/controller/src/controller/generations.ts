/**
 * Replica generations: the fencing identity the controller gives each replica incarnation it asks
 * for (internals.md "Fencing"). The counter only grows, also across controllers: it is checkpointed,
 * and a successor starts from the checkpointed value.
 *
 * The rule that follows: a replica the table does not hold, whose generation is below the counter,
 * was issued and then removed (by this controller or one before it, as far as the checkpoint
 * knows): it is retired and never adopted again. Only a generation at or above the counter (issued
 * by a predecessor after its last checkpoint) may be adopted, and only if a live agent lists it.
 */
export class Generations {
  private next = 1;

  /** The next generation to issue (what the checkpoint stores). */
  get nextValue(): number {
    return this.next;
  }

  /** A fresh generation for a replica about to be started. */
  issue(): number {
    return this.next++;
  }

  /** After reading a checkpoint: never issue below what a predecessor may have issued. */
  restore(next: number | undefined): void {
    if (typeof next === "number" && Number.isSafeInteger(next)) this.next = Math.max(this.next, next);
  }

  /** An adopted replica's generation is taken: issue above it from now on. */
  noteAdopted(generation: number): void {
    this.next = Math.max(this.next, generation + 1);
  }

  /** Whether a generation the table does not hold was retired (see the class comment). */
  isRetired(generation: number): boolean {
    return generation < this.next;
  }

  /** A controller that lost the lease starts over from the next checkpoint. */
  reset(): void {
    this.next = 1;
  }
}
