import * as vega from "vega";
import { compile, type TopLevelSpec } from "vega-lite";

/**
 * Renders a vega-lite spec to SVG headless: vega-lite compiles it to a vega spec, vega's View
 * renders it with the "none" renderer (no browser, no canvas) and `toSVG()` serialises the scene.
 */
export async function renderSvg(spec: TopLevelSpec): Promise<string> {
  // vega tags data objects with symbols as it parses: give it a copy so callers' rows stay clean.
  const compiled = compile({ background: "white", ...structuredClone(spec) } as TopLevelSpec).spec;
  const view = new vega.View(vega.parse(compiled), { renderer: "none" });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}

/** Common look: readable on GitHub light and dark, small padding. */
export const chartConfig = {
  config: {
    font: "Helvetica, Arial, sans-serif",
    axis: { labelFontSize: 11, titleFontSize: 12 },
    view: { stroke: null },
  },
} as const;

/**
 * A grouped bar chart: one bar per `color` value inside each `x` group, optional small multiples by
 * `column`. The shape most suites want (req/s by concurrency and mode, hit rate by router…).
 */
export function groupedBars(opts: {
  title: string;
  values: Record<string, unknown>[];
  x: string;
  xTitle: string;
  y: string;
  yTitle: string;
  color: string;
  column?: string;
  columnTitle?: string;
}): TopLevelSpec {
  return {
    $schema: "https://vega.github.io/schema/vega-lite/v6.json",
    title: opts.title,
    data: { values: opts.values },
    mark: { type: "bar", tooltip: true },
    encoding: {
      x: { field: opts.x, type: "ordinal", title: opts.xTitle, axis: { labelAngle: 0 } },
      // sort: null keeps the data's order (raw baselines first), not the alphabet's.
      xOffset: { field: opts.color, sort: null },
      y: { field: opts.y, type: "quantitative", title: opts.yTitle },
      color: { field: opts.color, type: "nominal", title: opts.color, sort: null },
      ...(opts.column
        ? { column: { field: opts.column, type: "ordinal", title: opts.columnTitle ?? opts.column } }
        : {}),
    },
    ...chartConfig,
  } as TopLevelSpec;
}

/** A line chart with points, one line per `color` value; `logX` for parameter sweeps like V. */
export function lines(opts: {
  title: string;
  values: Record<string, unknown>[];
  x: string;
  xTitle: string;
  y: string;
  yTitle: string;
  color: string;
  /** "ordinal" sorts numeric series (N = 4, 16, 64) by value instead of as text. @default "nominal" */
  colorType?: "nominal" | "ordinal";
  colorTitle?: string;
  logX?: boolean;
  /** Horizontal reference line (a target), drawn dashed. */
  rule?: number;
}): TopLevelSpec {
  const line = {
    mark: { type: "line", point: true, tooltip: true },
    encoding: {
      x: { field: opts.x, type: "quantitative", title: opts.xTitle, scale: opts.logX ? { type: "log" } : {} },
      y: { field: opts.y, type: "quantitative", title: opts.yTitle },
      color: {
        field: opts.color,
        type: opts.colorType ?? "nominal",
        title: opts.colorTitle ?? opts.color,
        // Distinct hues even for ordinal series (the default ordinal ramp is shades of one blue).
        scale: { scheme: "tableau10" },
      },
    },
  };
  const layers: unknown[] = [line];
  if (opts.rule !== undefined) {
    layers.push({
      mark: { type: "rule", strokeDash: [4, 4], color: "gray" },
      encoding: { y: { datum: opts.rule } },
    });
  }
  return {
    $schema: "https://vega.github.io/schema/vega-lite/v6.json",
    title: opts.title,
    data: { values: opts.values },
    layer: layers,
    ...chartConfig,
  } as TopLevelSpec;
}
