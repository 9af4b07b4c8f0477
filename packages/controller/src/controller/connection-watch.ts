import type { NatsConnection } from "nats";

/**
 * Follows the controller's NATS connection. While it is down the controller hears no heartbeats,
 * so silence then says nothing about replicas or agents: the reconcile loop pauses, and on
 * reconnect `onReconnect` gives every replica and agent a full heartbeat timeout again. Without
 * this, a 1.5 s NATS restart made the controller evict and replace every healthy replica.
 */
export class ConnectionWatch {
  /** Epoch ms when the connection dropped; 0 while connected. */
  private disconnectedAt = 0;

  constructor(nc: NatsConnection, onReconnect: (now: number) => void) {
    void (async () => {
      for await (const s of nc.status()) {
        if (s.type === "disconnect") this.disconnectedAt ||= Date.now();
        else if (s.type === "reconnect") {
          this.disconnectedAt = 0;
          onReconnect(Date.now());
        }
      }
    })();
  }

  get connected(): boolean {
    return this.disconnectedAt === 0;
  }
}
