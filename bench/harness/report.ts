import { mkdirSync, readFileSync, writeFileSync, existsSync } from "node:fs";
import { join } from "node:path";
import { renderSvg } from "./charts.js";
import type { MachineInfo } from "./machine.js";
import { markdownTable } from "./markdown.js";
import type { Suite, SuiteResult } from "./suite.js";

/** What `<out>/<suite>.json` holds: the result plus when, where and how it was measured. */
export interface StoredResult {
  suite: string;
  title: string;
  question: string;
  /** ISO date-time of the run. */
  date: string;
  /** The command that reproduces it. */
  command: string;
  quick: boolean;
  durationS: number;
  machine: MachineInfo;
  /**
   * The machine's 1-minute load average when the suite started and when it ended: a shared
   * machine's load moves every ratio, so the section says what it ran beside.
   */
  loadAverage?: [number, number];
  /** Chart SVG file names, relative to the results directory. */
  chartFiles: { file: string; title: string }[];
  result: Omit<SuiteResult, "charts">;
}

/** The Markdown section of one suite (targets, tables, charts, notes); chart links go to `chartDir`. */
export function suiteMarkdown(r: StoredResult, chartDir: string): string {
  const res = r.result;
  const parts = [`## ${r.title}`, "", r.question, "", res.summary, ""];
  parts.push(
    `_Measured ${r.date.slice(0, 16).replace("T", " ")} UTC${r.quick ? " in **quick** mode" : ""} with \`${r.command}\` (${Math.round(r.durationS)} s)${loadNote(r)}._`,
    "",
  );
  if (res.targets.length) {
    parts.push(
      markdownTable(
        [
          { key: "name", label: "target" },
          { key: "target", label: "wanted" },
          { key: "measured", label: "measured" },
          { key: "met", label: "met" },
          { key: "note", label: "why missed / what would close it" },
        ],
        res.targets.map((t) => ({ ...t, met: t.met ? "✅" : "❌", note: t.note ?? "" })),
      ),
      "",
    );
  }
  parts.push(markdownTable(res.columns, res.rows), "");
  for (const t of res.extraTables ?? [])
    parts.push(`**${t.heading}**`, "", markdownTable(t.columns, t.rows), "");
  for (const c of r.chartFiles) parts.push(`![${c.title}](${chartDir}/${c.file})`, "");
  if (res.notes.length) parts.push(...res.notes.map((n) => `- ${n}`), "");
  return parts.join("\n");
}

/** ", load average 1.2 → 3.4 on 2 cores" when the run recorded it. */
function loadNote(r: StoredResult): string {
  if (!r.loadAverage) return "";
  const [a, b] = r.loadAverage.map((x) => x.toFixed(1));
  return `, load average ${a} → ${b} on ${r.machine.cores} cores`;
}

/**
 * Writes one suite's outputs into `outDir`: `<suite>.json`, `<suite>.md` and one SVG per chart
 * (`<suite>-<chart>.svg`, rendered headless with vega-lite → vega).
 */
export async function writeSuiteResult(
  outDir: string,
  suite: Suite,
  result: SuiteResult,
  meta: Pick<StoredResult, "date" | "command" | "quick" | "durationS" | "machine" | "loadAverage">,
): Promise<StoredResult> {
  mkdirSync(outDir, { recursive: true });
  const chartFiles: StoredResult["chartFiles"] = [];
  for (const chart of result.charts) {
    const file = `${suite.name}-${chart.name}.svg`;
    writeFileSync(join(outDir, file), await renderSvg(chart.spec));
    chartFiles.push({ file, title: chart.title });
  }
  const { charts: _charts, ...rest } = result;
  const stored: StoredResult = {
    suite: suite.name,
    title: suite.title,
    question: suite.question,
    ...meta,
    chartFiles,
    result: rest,
  };
  writeFileSync(join(outDir, `${suite.name}.json`), JSON.stringify(stored, null, 2) + "\n");
  writeFileSync(join(outDir, `${suite.name}.md`), suiteMarkdown(stored, "."));
  return stored;
}

/** The stored result of `name` in `outDir`, or null when that suite has not run there yet. */
export function readStoredResult(outDir: string, name: string): StoredResult | null {
  const p = join(outDir, `${name}.json`);
  if (!existsSync(p)) return null;
  try {
    return JSON.parse(readFileSync(p, "utf8")) as StoredResult;
  } catch {
    return null;
  }
}
