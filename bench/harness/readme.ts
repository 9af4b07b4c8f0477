import { readFileSync, writeFileSync } from "node:fs";
import { join, relative } from "node:path";
import { describeMachine } from "./machine.js";
import { markdownTable } from "./markdown.js";
import { readStoredResult, suiteMarkdown, type StoredResult } from "./report.js";
import type { Suite } from "./suite.js";

/**
 * Rewrites `bench/README.md` from `bench/readme-template.md`: the template holds the prose (how to
 * run, what each suite means); the placeholders get the latest stored result of every suite, so a
 * one-suite run refreshes its section and keeps the others.
 *
 * Placeholders: `{{date}}`, `{{machine}}`, `{{command}}`, `{{targets}}` (every target in one table),
 * `{{suites}}` (one section per suite).
 */
export function rewriteReadme(
  benchDir: string,
  outDir: string,
  suites: readonly Suite[],
  run: { date: string; command: string },
): void {
  const template = readFileSync(join(benchDir, "readme-template.md"), "utf8");
  const chartDir = relative(benchDir, outDir) || ".";
  const stored = suites
    .map((s) => readStoredResult(outDir, s.name))
    .filter((r): r is StoredResult => r !== null);
  const machines = [...new Set(stored.map((r) => describeMachine(r.machine)))];
  const targets = stored.flatMap((r) =>
    r.result.targets.map((t) => ({
      suite: r.suite,
      name: t.name,
      target: t.target,
      measured: t.measured,
      met: t.met ? "✅" : "❌",
    })),
  );
  const sections = suites.map((s) => {
    const r = stored.find((x) => x.suite === s.name);
    return r
      ? suiteMarkdown(r, chartDir)
      : `## ${s.title}\n\n${s.question}\n\n_Not measured yet: run \`pnpm bench --suite ${s.name}\`._\n`;
  });
  const text = template
    .replaceAll("{{date}}", run.date.slice(0, 16).replace("T", " ") + " UTC")
    .replaceAll("{{machine}}", machines.length ? machines.join("; ") : "(no results yet)")
    .replaceAll("{{command}}", run.command)
    .replaceAll(
      "{{targets}}",
      targets.length
        ? markdownTable(
            [
              { key: "suite", label: "suite" },
              { key: "name", label: "target" },
              { key: "target", label: "wanted" },
              { key: "measured", label: "measured" },
              { key: "met", label: "met" },
            ],
            targets,
          )
        : "_No results yet._",
    )
    .replaceAll("{{suites}}", sections.join("\n"));
  writeFileSync(join(benchDir, "README.md"), text);
}
