import { fileURLToPath } from "node:url";
import { expect } from "vitest";
import type { Row, Suite, SuiteResult } from "../harness/suite.js";

/** The bench package folder. */
export const benchDir = fileURLToPath(new URL("..", import.meta.url));

/** Runs a suite in quick mode on local servers. */
export const quick = (s: Suite): Promise<SuiteResult> =>
  s.run({ quick: true, address: null, benchDir, log: () => {} });

/** Every column of every row is present, and the `numeric` ones are finite numbers ≥ 0. */
export function wellFormed(r: SuiteResult, numeric: string[]): void {
  expect(r.rows.length).toBeGreaterThan(0);
  for (const row of r.rows) {
    for (const c of r.columns) expect(row, `column ${c.key}`).toHaveProperty(c.key);
    for (const k of numeric) {
      expect(typeof row[k], `${k} in ${JSON.stringify(row)}`).toBe("number");
      expect(Number.isFinite(row[k] as number) && (row[k] as number) >= 0).toBe(true);
    }
  }
  for (const t of r.targets) if (!t.met) expect(t.note, t.name).toBeTruthy();
}

/** The distinct values of column `k`, in row order. */
export const xs = (rows: Row[], k: string) => [...new Set(rows.map((r) => r[k]))];
