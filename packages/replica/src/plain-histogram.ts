import type { Histogram, Registry } from "prom-client";

/** One labelled series of a {@link PlainHistogram}: what the hot path holds and calls. */
export interface PlainHistogramSeries {
  /** Counts `value` (in the histogram's unit) in its bucket, the sum and the count. */
  observe(value: number): void;
}

/** Options of {@link PlainHistogram}. */
export interface PlainHistogramOptions {
  /** The metric name, as prom-client's `Histogram` takes it. */
  name: string;
  /** The `# HELP` text. */
  help: string;
  /** Upper bounds, ascending (`+Inf` is implied). */
  buckets: readonly number[];
  /** Registries the metric is listed in. */
  registers: readonly Registry[];
}

/**
 * A Prometheus histogram that counts in plain arrays and builds its samples only when scraped.
 * prom-client's `Histogram.observe()` (labelled children included) allocates, validates and
 * hashes the label values on every call; here a series is found once (by the caller, who keeps
 * it) and each observation is a bucket search and three additions.
 *
 * A scrape sees exactly what a prom-client `Histogram` with the same name, help, buckets and
 * observations shows, as text (`registry.metrics()`) and as JSON (`getMetricsAsJSON()`, which
 * `AggregatorRegistry.aggregate` merges): the same samples, labels, order and float sums. Series
 * appear from their first observation on and keep counting across scrapes (a histogram is
 * cumulative); `reset()` forgets them, as prom-client's does.
 */
export class PlainHistogram {
  /** What prom-client's registry and aggregation read. */
  readonly type = "histogram";
  readonly aggregator = "sum";
  readonly name: string;
  readonly help: string;
  private readonly bounds: readonly number[];
  private readonly series = new Map<string, Series>();

  constructor(options: PlainHistogramOptions) {
    this.name = options.name;
    this.help = options.help;
    this.bounds = [...options.buckets];
    // Any object with a name and get() serves a registry at runtime; the typings list only
    // prom-client's own classes.
    for (const r of options.registers) r.registerMetric(this as unknown as Histogram);
  }

  /**
   * The series of `labels` (label name → value, in the order the scrape shows them), made on its
   * first use. `key` tells series apart (the caller's own key, e.g. the method name). Keep the
   * returned series: finding it is the only per-call cost worth avoiding.
   */
  seriesOf(key: string, labels: Readonly<Record<string, string>>): PlainHistogramSeries {
    let s = this.series.get(key);
    if (s === undefined) {
      s = new Series(this.bounds, { ...labels });
      this.series.set(key, s);
    }
    return s;
  }

  /** Forgets every series (prom-client's `Registry.resetMetrics()` calls this). */
  reset(): void {
    this.series.clear();
  }

  /** Samples for the text format: `le` as labels, the series' labels as shared labels. */
  getForPromString(): Promise<Family> {
    const values: Sample[] = [];
    for (const s of this.series.values()) {
      if (s.count === 0) continue;
      let acc = 0;
      for (let b = 0; b < this.bounds.length; b++) {
        acc += s.buckets[b]!;
        values.push(sample({ le: this.bounds[b]! }, acc, `${this.name}_bucket`, null, s.labels));
      }
      values.push(
        sample({ le: "+Inf" }, s.count, `${this.name}_bucket`, null, s.labels),
        sample({}, s.sum, `${this.name}_sum`, undefined, s.labels),
        sample({}, s.count, `${this.name}_count`, undefined, s.labels),
      );
    }
    return Promise.resolve(this.family(values));
  }

  /** Samples as `getMetricsAsJSON()` gives them: every label in `labels`. */
  async get(): Promise<Family> {
    const data = await this.getForPromString();
    data.values = data.values.map(({ sharedLabels, labels, ...rest }) => ({
      ...rest,
      labels: Object.assign(labels, sharedLabels),
    }));
    return data;
  }

  private family(values: Sample[]): Family {
    return { name: this.name, help: this.help, type: this.type, values, aggregator: this.aggregator };
  }
}

class Series implements PlainHistogramSeries {
  /** Observations per bucket (not cumulative); above the last bound they count only in `count`. */
  readonly buckets: Float64Array;
  sum = 0;
  count = 0;

  constructor(
    private readonly bounds: readonly number[],
    readonly labels: Record<string, string>,
  ) {
    this.buckets = new Float64Array(bounds.length);
  }

  observe(value: number): void {
    if (!Number.isFinite(value)) throw new TypeError(`Value is not a valid number: ${value}`);
    const bounds = this.bounds;
    for (let b = 0; b < bounds.length; b++) {
      if (value <= bounds[b]!) {
        this.buckets[b]!++;
        break;
      }
    }
    this.sum += value;
    this.count += 1;
  }
}

interface Sample {
  labels: Record<string, string | number>;
  sharedLabels?: Record<string, string>;
  value: number;
  metricName: string;
  exemplar: null | undefined;
}

interface Family {
  name: string;
  help: string;
  type: string;
  values: Sample[];
  aggregator: string;
}

// Field order as prom-client's own samples, so that even a deep equality of JSON holds.
function sample(
  labels: Record<string, string | number>,
  value: number,
  metricName: string,
  exemplar: null | undefined,
  sharedLabels: Record<string, string>,
): Sample {
  return { labels, sharedLabels, value, metricName, exemplar };
}
