import { RequestStrategy, type NatsConnection } from "nats";
import { AggregatorRegistry, type Registry } from "prom-client";
import { metricsSubject } from "@tsserve/protocol/internal";
import { decode } from "@tsserve/protocol/internal";

/** How long a collection waits for components to answer (replicas, controller, client handles). */
export const DEFAULT_COLLECT_WAIT_MS = 800;

/** One metric family as prom-client's `getMetricsAsJSON()` describes it. */
export interface MetricFamily {
  name: string;
  help: string;
  type: string;
  aggregator?: string;
  values: { value: number; labels: Record<string, string | number>; metricName?: string }[];
}

/** What one collection gathered. */
export interface CollectedMetrics {
  /** Every family of every component that answered, plus the local registries. */
  families: MetricFamily[][];
  /** How many components answered over NATS. */
  responders: number;
}

/**
 * Asks every component on the cluster for its metrics (`metrics`, request-many; each process
 * answers with its registry as JSON) and adds this process's own registries (the head's proxy).
 */
export async function collectMetrics(
  nc: NatsConnection,
  prefix: string,
  local: readonly Registry[] = [],
  waitMs = DEFAULT_COLLECT_WAIT_MS,
): Promise<CollectedMetrics> {
  const families: MetricFamily[][] = [];
  let responders = 0;
  const iter = await nc.requestMany(metricsSubject(prefix), new Uint8Array(0), {
    strategy: RequestStrategy.Timer,
    maxWait: waitMs,
  });
  try {
    for await (const msg of iter) {
      if (msg.data.length === 0) continue;
      const json = decode(msg.data);
      if (Array.isArray(json)) {
        families.push(json as MetricFamily[]);
        responders++;
      }
    }
  } catch {
    // No responders at all (nothing running yet): an empty collection, not an error.
  }
  for (const r of local) families.push((await r.getMetricsAsJSON()) as unknown as MetricFamily[]);
  return { families, responders };
}

/**
 * One Prometheus exposition of everything collected: families with the same name from different
 * processes merge (their `component`/`instance` labels keep the series apart).
 */
export function renderExposition(collected: CollectedMetrics): Promise<string> | string {
  return AggregatorRegistry.aggregate(collected.families).metrics();
}
