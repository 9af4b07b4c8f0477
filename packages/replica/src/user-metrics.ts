import { Counter as PCounter, Gauge as PGauge, Histogram as PHistogram, type Metric } from "prom-client";
import { processRegistry } from "@tsserve/protocol/internal";
import { ConfigError } from "@tsserve/protocol";
import { getReplicaContext } from "./context.js";

/**
 * User-defined metrics inside a deployment, like Ray Serve's `ray.serve.metrics`: each sample
 * gets the replica's `app`, `deployment` and `replica` tags automatically, and lands in the
 * replica's registry, which the head's `/metrics` collects over NATS.
 *
 * ```ts
 * const hits = new metrics.Counter("cache_hits", { description: "prefix-cache hits", tagKeys: ["model"] });
 * hits.inc(1, { model: "small" });
 * ```
 */

/** Options shared by every user metric. */
export interface MetricOptions {
  /** The HELP text. @default the name */
  description?: string;
  /** Tag (label) names this metric accepts besides the automatic app, deployment and replica. @default [] */
  tagKeys?: readonly string[];
}

/** Options of a {@link Histogram}. */
export interface HistogramOptions extends MetricOptions {
  /** Upper bounds of the buckets, increasing. @default prom-client's defaults */
  boundaries?: readonly number[];
}

type Tags = Record<string, string>;
const AUTO_TAGS = ["app", "deployment", "replica"] as const;

function autoTags(): Tags {
  try {
    const c = getReplicaContext();
    return { app: c.appName, deployment: c.deploymentName, replica: c.replicaId };
  } catch {
    // Outside a replica (a test, a script): no automatic tags.
    return { app: "", deployment: "", replica: "" };
  }
}

abstract class UserMetric<M extends Metric<string>> {
  protected readonly metric: M;
  private defaults: Tags = {};
  private readonly keys: Set<string>;

  constructor(
    readonly name: string,
    options: MetricOptions,
    make: (cfg: { name: string; help: string; labelNames: string[]; registers: [] }) => M,
  ) {
    for (const k of options.tagKeys ?? [])
      if ((AUTO_TAGS as readonly string[]).includes(k))
        throw new ConfigError(`metric ${name}: tag key "${k}" is set automatically; pick another name`);
    this.keys = new Set(options.tagKeys ?? []);
    const registry = processRegistry();
    const existing = registry.getSingleMetric(name) as M | undefined;
    this.metric =
      existing ??
      make({
        name,
        help: options.description ?? name,
        labelNames: [...AUTO_TAGS, ...this.keys],
        registers: [],
      });
    if (!existing) registry.registerMetric(this.metric);
  }

  /** Tags used when a call does not give them (Ray's `set_default_tags`). */
  setDefaultTags(tags: Tags): this {
    this.check(tags);
    this.defaults = { ...tags };
    return this;
  }

  protected labels(tags: Tags | undefined): Tags {
    if (tags) this.check(tags);
    return { ...autoTags(), ...this.defaults, ...tags };
  }

  private check(tags: Tags): void {
    for (const k of Object.keys(tags))
      if (!this.keys.has(k))
        throw new ConfigError(
          `metric ${this.name}: unknown tag "${k}"; declared tag keys: ${[...this.keys].join(", ") || "(none)"}`,
        );
  }
}

/** A value that only goes up (Ray: `metrics.Counter`). */
export class Counter extends UserMetric<PCounter<string>> {
  constructor(name: string, options: MetricOptions = {}) {
    super(name, options, (cfg) => new PCounter(cfg));
  }
  /** Adds `value` (default 1, must be >= 0). */
  inc(value = 1, tags?: Tags): void {
    this.metric.inc(this.labels(tags), value);
  }
}

/** A value that goes up and down (Ray: `metrics.Gauge`). */
export class Gauge extends UserMetric<PGauge<string>> {
  constructor(name: string, options: MetricOptions = {}) {
    super(name, options, (cfg) => new PGauge(cfg));
  }
  /** Sets the current value. */
  set(value: number, tags?: Tags): void {
    this.metric.set(this.labels(tags), value);
  }
}

/** A distribution of observed values in buckets (Ray: `metrics.Histogram`). */
export class Histogram extends UserMetric<PHistogram<string>> {
  constructor(name: string, options: HistogramOptions = {}) {
    super(
      name,
      options,
      (cfg) => new PHistogram(options.boundaries ? { ...cfg, buckets: [...options.boundaries] } : cfg),
    );
  }
  /** Records one observation. */
  observe(value: number, tags?: Tags): void {
    this.metric.observe(this.labels(tags), value);
  }
}
