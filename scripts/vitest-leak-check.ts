// Vitest global setup: every process the tests start carries a per-run marker in its environment
// (TSSERVE_RUN_MARKER, set here before the workers fork; spawned children inherit it, and agents
// pass it to the replicas they start with a scrubbed environment). At the end of the run, any
// process still alive with the marker was leaked by a test: the run fails and lists them.
import { randomUUID } from "node:crypto";
import { readdirSync, readFileSync } from "node:fs";

const MARKER = "TSSERVE_RUN_MARKER";
/** Processes get this long to finish a graceful exit (an orphan replica's drain) before they count. */
const GRACE_MS = 15_000;

function environOf(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/environ`, "utf8");
  } catch {
    return "";
  }
}

function commandOf(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0").join(" ").trim();
  } catch {
    return "";
  }
}

function alive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2)[0] !== "Z";
  } catch {
    return false;
  }
}

/** Live processes (other than vitest's own) whose start-up environment carries `marker`. */
function marked(marker: string): number[] {
  const needle = `${MARKER}=${marker}\0`;
  return readdirSync("/proc")
    .filter((n) => /^\d+$/.test(n))
    .map(Number)
    .filter((pid) => pid !== process.pid && alive(pid))
    .filter((pid) => environOf(pid).includes(needle))
    .filter((pid) => !/vitest/.test(commandOf(pid)));
}

export function setup(): void {
  // Projects share one run: the first setup picks the marker, later ones keep it.
  process.env[MARKER] ??= `vitest-${randomUUID()}`;
}

export async function teardown(): Promise<void> {
  const marker = process.env[MARKER];
  if (!marker || process.platform !== "linux" || process.env["TSSERVE_LEAK_CHECKED"] === "1") return;
  process.env["TSSERVE_LEAK_CHECKED"] = "1";
  const deadline = Date.now() + GRACE_MS;
  let left = marked(marker);
  while (left.length > 0 && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 250));
    left = marked(marker);
  }
  if (left.length === 0) return;
  const lines = left.map((pid) => `  pid ${pid}: ${commandOf(pid).slice(0, 200)}`);
  // They were started by this run: stop them so the next run starts clean, then fail this one.
  for (const pid of left) {
    try {
      process.kill(pid, "SIGKILL");
    } catch {
      // already gone
    }
  }
  // Vitest reports a teardown error but keeps its exit code: set the code so that CI fails.
  process.exitCode = 1;
  throw new Error(
    `${left.length} process(es) started by the tests were still alive after the run:\n${lines.join("\n")}`,
  );
}
