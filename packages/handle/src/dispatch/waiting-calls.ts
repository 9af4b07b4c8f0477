import type { PendingRequest } from "../pending-request.js";
import { WaitIndex } from "./wait-index.js";
import { WaitQueue } from "./wait-queue.js";

/**
 * A deployment's waiting calls: the FIFO of every waiting call in arrival order (its size is what
 * `maxQueuedRequests` limits; membership changes walk it oldest first) and the per-replica
 * {@link WaitIndex} a freed slot serves from. A call that leaves the queue leaves the index too.
 */
export class WaitingCalls extends WaitQueue<PendingRequest> {
  /** Which waiting call may use which replica; kept by the slot assigner. */
  readonly index = new WaitIndex<PendingRequest>();

  /** Removes `req` from the queue and every wait list; a no-op when it is not queued. */
  override remove(req: PendingRequest): void {
    super.remove(req);
    if (req.waitTickets !== null) this.index.remove(req);
  }
}
