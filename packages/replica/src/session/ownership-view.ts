import type { NatsConnection } from "nats";
import { controllerMembership } from "@tsserve/handle";
import { HashRing } from "@tsserve/handle/internal";
import type { ReplicaSpec } from "@tsserve/protocol/internal";

const DEFAULT_VIRTUAL_NODES = 100;

/**
 * This replica's view of its deployment's RUNNING set, followed like a handle follows it, and the
 * ConsistentHash ring over it (the handles' ring: same hash, same virtual nodes), so the replica
 * can tell whether a session's call is its own to run or should be forwarded to the session's
 * owner. Before any snapshot arrives (no controller: tests, benches) every session is its own.
 */
export class OwnershipView {
  private readonly ring: HashRing;
  private live = new Set<string>();
  private known = false;
  private readonly stop: () => void;
  /** Called after each change of the RUNNING set (the ring is rebuilt by then). */
  onChange: () => void = () => {};

  constructor(nc: NatsConnection, spec: ReplicaSpec) {
    const vn = spec.config.requestRouter.kwargs["numVirtualNodes"];
    this.ring = new HashRing(typeof vn === "number" && vn >= 1 ? Math.floor(vn) : DEFAULT_VIRTUAL_NODES);
    const source = controllerMembership({
      nc,
      prefix: spec.prefix,
      app: spec.app,
      deployment: spec.deployment,
    });
    this.stop = source.subscribe({
      onUpdate: (u) => {
        const live = new Set(u.replicas.map((r) => r.replicaId));
        const same = this.known && live.size === this.live.size && [...live].every((r) => this.live.has(r));
        this.known = true;
        this.live = live;
        if (same) return;
        this.ring.rebuild(live);
        this.onChange();
      },
      onError: () => {},
    });
  }

  /** The session's owner on the ring of the RUNNING set, or undefined (no view yet, or an empty set). */
  ownerOf(sessionId: string): string | undefined {
    if (!this.known || this.ring.size === 0) return undefined;
    return this.ring.ids[this.ring.owner[this.ring.startIndexOfKey(sessionId)]!];
  }

  /** Whether `replicaId` is in the RUNNING set as this replica last saw it (true without a view). */
  isLive(replicaId: string): boolean {
    return !this.known || this.live.has(replicaId);
  }

  close(): void {
    this.stop();
  }
}
