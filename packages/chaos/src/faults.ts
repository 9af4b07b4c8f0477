import { readFileSync } from "node:fs";
import type { LocalCluster } from "@tsserve/cluster";

/** Sends `signal` to `pid`; false when the process is already gone (ESRCH), never throws for that. */
export function signalPid(pid: number, signal: NodeJS.Signals): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, signal);
    return true;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ESRCH") return false;
    throw e;
  }
}

/** Whether a process with this pid exists (zombies count as gone). */
export function pidAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    // A killed child not yet reaped by its parent is a zombie: as good as dead for our purposes.
    const state = /^State:\s+(\S)/m.exec(readFileSync(`/proc/${pid}/status`, "utf8"))?.[1];
    return state !== "Z";
  } catch {
    return false;
  }
}

/**
 * SIGSTOP, then SIGCONT after `ms`: a process that is alive but unresponsive (GC pause, swapped
 * out, debugger). Resolves after the SIGCONT; the stop is undone even if the caller forgets.
 */
export async function pauseProcess(pid: number, ms: number): Promise<boolean> {
  if (!signalPid(pid, "SIGSTOP")) return false;
  await new Promise((r) => setTimeout(r, ms));
  signalPid(pid, "SIGCONT");
  return true;
}

/** Pids of every RUNNING replica the controller lists, by replica id. */
export async function replicaPids(
  cluster: Pick<LocalCluster, "client">,
  app?: string,
): Promise<Map<string, number>> {
  const status = await cluster.client.status();
  const out = new Map<string, number>();
  for (const a of status.applications) {
    if (app !== undefined && a.name !== app) continue;
    for (const d of a.deployments)
      for (const r of d.replicas) if (r.state === "RUNNING" && r.pid > 0) out.set(r.replicaId, r.pid);
  }
  return out;
}

/** The kinds of fault the chaos run picks from. */
export type FaultKind =
  "replica-sigkill" | "replica-sigstop" | "agent-sigkill" | "controller-restart" | "nats-restart";

/** What one injected fault did, for the report. */
export interface FaultRecord {
  kind: FaultKind;
  /** ms since the run started. */
  at: number;
  target: string;
  /** Whether the fault reached a live target. */
  applied: boolean;
  note?: string;
}

/** Picks one element uniformly (undefined for an empty list). */
export function pick<T>(items: readonly T[], random: () => number = Math.random): T | undefined {
  return items.length === 0 ? undefined : items[Math.floor(random() * items.length)];
}
