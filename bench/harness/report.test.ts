import { copyFileSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { groupedBars } from "./charts.js";
import { machineInfo } from "./machine.js";
import { formatCell, markdownTable } from "./markdown.js";
import { rewriteReadme } from "./readme.js";
import { writeSuiteResult } from "./report.js";
import type { Suite, SuiteResult } from "./suite.js";

const benchDir = fileURLToPath(new URL("..", import.meta.url));

describe("markdown", () => {
  it("formats numbers, nulls and pipes and right-aligns numeric columns", () => {
    expect(formatCell(12345.678, 1)).toBe("12,345.7");
    expect(formatCell(null)).toBe("n/a");
    expect(formatCell(Number.NaN)).toBe("n/a");
    expect(formatCell("a|b")).toBe("a\\|b");
    const t = markdownTable(
      [
        { key: "m", label: "mode" },
        { key: "v", label: "req/s" },
      ],
      [{ m: "raw", v: 1000 }],
    );
    expect(t.split("\n")).toEqual(["| mode | req/s |", "|---|---:|", "| raw | 1,000 |"]);
  });
});

describe("report and README", () => {
  it("writes JSON, Markdown and a headless SVG chart, then a README with the result", async () => {
    const dir = mkdtempSync(join(tmpdir(), "bench-report-"));
    try {
      copyFileSync(join(benchDir, "readme-template.md"), join(dir, "readme-template.md"));
      const suite: Suite = {
        name: "demo",
        title: "9. Demo",
        question: "Does it render?",
        run: () => Promise.reject(new Error("unused")),
      };
      const values = [
        { c: 1, mode: "raw", rps: 10 },
        { c: 1, mode: "handle", rps: 9 },
      ];
      const result: SuiteResult = {
        summary: "A demo.",
        config: {},
        columns: [
          { key: "mode", label: "mode" },
          { key: "rps", label: "req/s" },
        ],
        rows: values,
        targets: [{ name: "ratio", target: "≥ 0.85", measured: "0.90", met: true }],
        charts: [
          {
            name: "tput",
            title: "Throughput",
            spec: groupedBars({
              title: "t",
              values,
              x: "c",
              xTitle: "c",
              y: "rps",
              yTitle: "req/s",
              color: "mode",
            }),
          },
        ],
        notes: ["a note"],
      };
      const meta = {
        date: "2026-01-02T03:04:05.000Z",
        command: "pnpm bench --suite demo",
        quick: true,
        durationS: 1,
        machine: machineInfo(),
        loadAverage: [0.5, 2.25] as [number, number],
      };
      const out = join(dir, "results");
      await writeSuiteResult(out, suite, result, meta);
      const svg = readFileSync(join(out, "demo-tput.svg"), "utf8");
      expect(svg.startsWith("<svg")).toBe(true);
      expect(svg).toContain("req/s");
      const stored = JSON.parse(readFileSync(join(out, "demo.json"), "utf8"));
      expect(stored.result.rows).toEqual(values);
      expect(stored.machine.cores).toBeGreaterThan(0);
      rewriteReadme(dir, out, [suite], meta);
      const readme = readFileSync(join(dir, "README.md"), "utf8");
      expect(readme).toContain("## 9. Demo");
      expect(readme).toContain("![Throughput](results/demo-tput.svg)");
      expect(readme).toContain("`pnpm bench --suite demo`");
      expect(readme).toContain("2026-01-02 03:04 UTC");
      expect(readme).toContain(`load average 0.5 → 2.3 on ${meta.machine.cores} cores`);
      expect(readme).not.toMatch(/\{\{\w+\}\}/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
