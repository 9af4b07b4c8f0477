import { formatCell } from "../harness/markdown.js";
import type { Row, TargetCheck } from "../harness/suite.js";

/** The caller counts the targets name. */
export const TARGET_CALLERS: readonly number[] = [4096, 16_384];
const MIN_TPUT = 0.9;
const MAX_CPU = 1.25;

/**
 * Issue 20's scale targets: ConsistentHash (uniform and Zipf sessions) at 4,096 and 16,384 waiting
 * callers keeps ≥ 0.9× its own 64-caller req/s and ≤ 1.25× its client CPU per call, judged on the
 * side-by-side columns when a row has them (rows stored before them: the curve's). Points not
 * measured (the quick mode skips 16,384) give no target.
 */
export function scaleCallersTargets(rows: readonly Row[]): TargetCheck[] {
  const out: TargetCheck[] = [];
  for (const callers of TARGET_CALLERS) {
    for (const r of rows) {
      const mode = String(r["mode"]);
      if (r["callers"] !== callers || !mode.startsWith("ConsistentHash")) continue;
      // Side by side with its 64-caller twin when measured (see the suite), else the curve's ratio.
      const paired = r["tputVsFirstPaired"] !== null && r["tputVsFirstPaired"] !== undefined;
      const tput = Number(paired ? r["tputVsFirstPaired"] : r["tputVsFirst"]);
      const cpuCell = paired ? r["clientCpuVsFirstPaired"] : r["clientCpuVsFirst"];
      const cpu = cpuCell === null || cpuCell === undefined ? null : Number(cpuCell);
      const how = paired ? `side by side; curve ${formatCell(r["tputVsFirst"], 2)}` : "curve";
      const cpuHow = paired ? `side by side; curve ${formatCell(r["clientCpuVsFirst"], 3)}` : "curve";
      const tputMet = tput >= MIN_TPUT;
      out.push({
        name: `${mode}, ${callers} callers ÷ own at 64: req/s`,
        target: `≥ ${MIN_TPUT.toFixed(2)}`,
        measured: `${tput.toFixed(2)} (${how})`,
        met: tputMet,
        ...(tputMet
          ? {}
          : {
              note:
                "compare the raw dispatcher's own ratio in the same column: when it drops as much, the " +
                "machine was loaded; when it does not, the handle's cost per waiting call grew",
            }),
      });
      const cpuMet = cpu !== null && cpu <= MAX_CPU;
      out.push({
        name: `${mode}, ${callers} callers ÷ own at 64: client CPU per call`,
        target: `≤ ${MAX_CPU.toFixed(2)}`,
        // Three decimals: a miss by less than 0.005 must not print as the target itself.
        measured: cpu === null ? "n/a" : `${cpu.toFixed(3)} (${cpuHow})`,
        met: cpuMet,
        ...(cpuMet
          ? {}
          : {
              note:
                cpu === null
                  ? "client CPU unreadable (/proc missing)"
                  : "part of the growth is the load generator's (the raw dispatcher's client CPU grows " +
                    "too, see its rows); the handle's part is each waiting call's PendingRequest and wait ticket",
            }),
      });
    }
  }
  return out;
}
