/**
 * `pnpm bench`: runs the cluster benchmark suites, writes `results/<suite>.json`, `.md` and `.svg`
 * charts, and rewrites `README.md` with the latest numbers, the machine, the date and the command.
 *
 *   pnpm bench [--quick] [--suite overhead,balance] [--address nats://host:4222] [--out DIR] [--no-readme] [--list]
 */
import { loadavg } from "node:os";
import { dirname } from "node:path";
import { performance } from "node:perf_hooks";
import { fileURLToPath } from "node:url";
import { parseArgs } from "./harness/args.js";
import { describeMachine, machineInfo } from "./harness/machine.js";
import { rewriteReadme } from "./harness/readme.js";
import { writeSuiteResult } from "./harness/report.js";
import type { TargetCheck } from "./harness/suite.js";
import { SUITES } from "./suites/index.js";

const benchDir = dirname(fileURLToPath(import.meta.url));

async function main(): Promise<number> {
  const args = parseArgs(process.argv.slice(2), benchDir);
  if (args.list) {
    for (const s of SUITES) console.log(`${s.name.padEnd(16)} ${s.title}`);
    return 0;
  }
  const known = SUITES.map((s) => s.name);
  const unknown = (args.suites ?? []).filter((n) => !known.includes(n));
  if (unknown.length)
    throw new RangeError(
      `unknown suite ${unknown.map((u) => JSON.stringify(u)).join(", ")}; known suites: ${known.join(", ")}`,
    );
  const selected = args.suites ? SUITES.filter((s) => args.suites!.includes(s.name)) : SUITES;
  const command = [
    "pnpm bench",
    args.quick ? "--quick" : "",
    args.suites ? `--suite ${args.suites.join(",")}` : "",
    args.address ? `--address ${args.address}` : "",
  ]
    .filter(Boolean)
    .join(" ");
  const machine = machineInfo();
  const date = new Date().toISOString();
  console.error(`[bench] ${command} on ${describeMachine(machine)}`);
  const started = performance.now();
  const failures: string[] = [];
  const targets: (TargetCheck & { suite: string })[] = [];
  for (const suite of selected) {
    const t0 = performance.now();
    const loadBefore = loadavg()[0]!;
    console.error(`[bench] ${suite.name}: ${suite.title}`);
    try {
      const result = await suite.run({
        quick: args.quick,
        address: args.address,
        benchDir,
        log: (m) => console.error(`[${suite.name}] ${m}`),
      });
      const durationS = (performance.now() - t0) / 1000;
      await writeSuiteResult(args.outDir, suite, result, {
        date,
        command,
        quick: args.quick,
        durationS,
        machine,
        loadAverage: [loadBefore, loadavg()[0]!],
      });
      targets.push(...result.targets.map((t) => ({ ...t, suite: suite.name })));
      console.error(`[bench] ${suite.name} done in ${durationS.toFixed(1)} s`);
    } catch (e) {
      // One broken suite must not cost the numbers of the others: report it and go on.
      failures.push(suite.name);
      console.error(`[bench] ${suite.name} FAILED:`, e);
    }
  }
  if (args.readme) rewriteReadme(benchDir, args.outDir, SUITES, { date, command });
  for (const t of targets)
    console.log(`${t.met ? "PASS" : "MISS"}  ${t.suite}: ${t.name}: ${t.measured} (wanted ${t.target})`);
  console.error(
    `[bench] finished in ${((performance.now() - started) / 1000).toFixed(1)} s; results in ${args.outDir}`,
  );
  if (failures.length) console.error(`[bench] failed suites: ${failures.join(", ")}`);
  return failures.length ? 1 : 0;
}

main().then(
  (code) => process.exit(code),
  (e: unknown) => {
    console.error(e instanceof Error ? e.message : e);
    process.exit(2);
  },
);
