import type { Cell, Column, Row } from "./suite.js";

/** Formats one cell: numbers with the column's digits and thousands separators, null as "n/a". */
export function formatCell(value: Cell | undefined, digits?: number): string {
  if (value === null || value === undefined) return "n/a";
  if (typeof value === "boolean") return value ? "yes" : "no";
  if (typeof value === "string") return value.replace(/\|/g, "\\|");
  if (!Number.isFinite(value)) return "n/a";
  const d = digits ?? (Number.isInteger(value) ? 0 : 2);
  return value.toLocaleString("en-US", { minimumFractionDigits: d, maximumFractionDigits: d });
}

/** A GitHub Markdown table of `rows` under `columns`; numeric columns are right-aligned. */
export function markdownTable(columns: readonly Column[], rows: readonly Row[]): string {
  const numeric = columns.map((c) => rows.some((r) => typeof r[c.key] === "number"));
  const head = `| ${columns.map((c) => c.label).join(" | ")} |`;
  const rule = `|${numeric.map((n) => (n ? "---:" : "---")).join("|")}|`;
  const body = rows.map((r) => `| ${columns.map((c) => formatCell(r[c.key], c.digits)).join(" | ")} |`);
  return [head, rule, ...body].join("\n");
}
