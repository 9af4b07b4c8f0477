import type { TopLevelSpec } from "vega-lite";

/**
 * The contract between the runner (`run.ts`) and one benchmark suite. A suite answers one question,
 * measures the limit (raw NATS, the ideal ring, the theoretical capacity) in the same run, and
 * returns rows; the runner turns them into JSON, a Markdown table, SVG charts and the README.
 */

/** What the runner hands every suite. */
export interface SuiteContext {
  /** `--quick`: the smallest configuration that still answers the question (whole run < 3 min). */
  readonly quick: boolean;
  /** `--address URL`: an existing NATS / tsserve cluster to use instead of local servers, or null. */
  readonly address: string | null;
  /** Absolute path of the bench package (fixtures and the standalone scripts live here). */
  readonly benchDir: string;
  /** Progress line on stderr, prefixed with the suite name. */
  log(message: string): void;
}

/** One column of a suite's table. */
export interface Column {
  /** Key into each row. */
  key: string;
  /** Header text. */
  label: string;
  /** Digits after the point for numbers. @default 0 for integers, else 2 */
  digits?: number;
}

/** A cell value; null prints as "n/a" (e.g. nats-server CPU when the server is remote). */
export type Cell = string | number | boolean | null;
/** One table row. */
export type Row = Record<string, Cell>;

/** One acceptance target of issue 6, as measured in this run. */
export interface TargetCheck {
  /** What is compared, e.g. "handle/raw throughput, c=64, 2 replicas". */
  name: string;
  /** The target, e.g. "≥ 0.85". */
  target: string;
  /** The measured value, formatted. */
  measured: string;
  met: boolean;
  /** Why a target was missed and what would close it (required when `met` is false). */
  note?: string;
}

/** A chart the runner renders headless to `<suite>-<name>.svg`. */
export interface ChartSpec {
  /** File name part, kebab-case. */
  name: string;
  /** Alt text / caption in the README. */
  title: string;
  /** A complete vega-lite spec with inline `data.values`. */
  spec: TopLevelSpec;
}

/** What a suite returns. */
export interface SuiteResult {
  /** One paragraph: what was measured and how. Markdown. */
  summary: string;
  /** The parameters used (replica counts, durations, …), stored in the JSON. */
  config: Record<string, unknown>;
  /** Table columns, in order. */
  columns: Column[];
  rows: Row[];
  /** Extra tables (e.g. a per-phase breakdown), each rendered under its heading. */
  extraTables?: { heading: string; columns: Column[]; rows: Row[] }[];
  targets: TargetCheck[];
  charts: ChartSpec[];
  /** Caveats worth reading next to the numbers. */
  notes: string[];
}

/** A benchmark suite module under `bench/suites/`. */
export interface Suite {
  /** Short kebab-case name used by `--suite` and in result file names. */
  name: string;
  /** Heading in the README. */
  title: string;
  /** The question the suite answers and its target, for the README. */
  question: string;
  run(ctx: SuiteContext): Promise<SuiteResult>;
}
