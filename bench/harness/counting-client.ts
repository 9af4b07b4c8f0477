import {
  connect,
  staticMembership,
  type Client,
  type DeploymentHandle,
  type HandleMetricsSink,
} from "@tsserve/handle";
import type { ReplicaInfo } from "@tsserve/protocol";
import type { RoutingConfig } from "@tsserve/protocol/internal";
import type { Mode } from "./interleaved-runs.js";

/** Counters a {@link CountingHandle} keeps from the handle's metrics sink. */
export interface RoutingCounts {
  /** Calls a replica accepted. */
  routed: number;
  /** Of those, calls accepted by their first-ranked group (a session's owner for ConsistentHash). */
  onFirstRank: number;
  /** REJECTED replies (a replica was full when the call arrived). */
  rejected: number;
}

/** A handle on its own client, so its routing counters are its own. */
export interface CountingHandle {
  client: Client;
  /** The handle itself (for modes that make their own `options()` handles up front). */
  handle: DeploymentHandle;
  counts: RoutingCounts;
  /** Zeroes the counters (call before a measured slice). */
  reset(): void;
  /**
   * A closed-loop mode calling `__call__`. `session(worker, seq)` names each call's session; with
   * `perWorker` it is asked once per worker (each caller keeps its session).
   */
  mode(
    name: string,
    session?: (worker: number, seq: number) => string | null,
    args?: unknown[],
    perWorker?: boolean,
  ): Mode;
}

/** Connects a client whose metrics sink counts routing outcomes, with a static membership. */
export async function countingHandle(
  address: string,
  app: string,
  deployment: string,
  replicas: readonly ReplicaInfo[],
  config: Partial<RoutingConfig>,
): Promise<CountingHandle> {
  const counts: RoutingCounts = { routed: 0, onFirstRank: 0, rejected: 0 };
  const sink: HandleMetricsSink = {
    requestRouted: (_a, _d, _r, rank) => {
      counts.routed++;
      if (rank === 0) counts.onFirstRank++;
    },
    requestRejected: () => {
      counts.rejected++;
    },
  };
  const client = await connect({ address, metrics: sink });
  const handle = client.getDeploymentHandle(deployment, {
    app,
    membership: staticMembership({ replicas: [...replicas], config }),
  });
  return {
    client,
    handle,
    counts,
    reset() {
      counts.routed = counts.onFirstRank = counts.rejected = 0;
    },
    mode(name, session, args = [], perWorker = true) {
      if (session === undefined) return { name, call: () => handle.remote(...args) };
      if (!perWorker) {
        return { name, call: (w, seq) => handle.options({ sessionId: session(w, seq) }).remote(...args) };
      }
      const handles = new Map<number, typeof handle>();
      return {
        name,
        call: (w, seq) => {
          let h = handles.get(w);
          if (h === undefined) handles.set(w, (h = handle.options({ sessionId: session(w, seq) })));
          return h.remote(...args);
        },
      };
    },
  };
}
