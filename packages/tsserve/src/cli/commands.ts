import { spawn } from "node:child_process";
import { agentEntryPath, parentWatchNodeArg } from "@tsserve/cluster/internal";
import { resolveTarget, type TargetFlags } from "../head/target.js";
import { clusterStatus, deleteApplication, shutdownCluster } from "../ops/admin.js";
import { callDeployment } from "../ops/call.js";
import { deployConfig } from "../ops/deploy.js";
import { formatStatus } from "./format-status.js";

const out = (line: string): void => void process.stdout.write(`${line}\n`);

/** Writes a line; when stdout's buffer is full, resolves only once it drained (a slow pipe paces the stream). */
function outPaced(line: string): Promise<void> | undefined {
  if (process.stdout.write(`${line}\n`)) return undefined;
  return new Promise((resolve) => process.stdout.once("drain", () => resolve()));
}

/** `tsserve deploy FILE`: validate, import the code, send, wait for HEALTHY. */
export async function deployCommand(
  file: string,
  opts: TargetFlags & { wait: boolean; timeout: number; force?: boolean },
): Promise<void> {
  const target = resolveTarget(opts);
  const { applications, status } = await deployConfig(target, file, {
    wait: opts.wait,
    force: opts.force ?? false,
    timeoutMs: opts.timeout,
    onProgress: (line) => out(`… ${line}`),
  });
  for (const app of applications) {
    const deps = app.deployments.map((d) => `${d.config.name} ×${d.config.numReplicas}`).join(", ");
    const route = app.routePrefix === null ? "no HTTP route" : `HTTP ${app.routePrefix}`;
    const health = status === undefined ? "accepted" : "HEALTHY";
    out(
      `${app.name}: ${health} (${deps}; ingress ${app.ingress}; ${route}; code ${app.deployments[0]?.codeVersion ?? "-"})`,
    );
  }
  if (status === undefined) out("not waiting for replicas: follow them with `tsserve status`");
}

/** `tsserve status [--json]`. The JSON is the controller's StatusReport as is (contract shape). */
export async function statusCommand(opts: TargetFlags & { json?: boolean }): Promise<void> {
  const target = resolveTarget(opts);
  const report = await clusterStatus(target);
  out(opts.json ? JSON.stringify(report, null, 2) : formatStatus(report));
}

/** `tsserve call <app> <deployment>`: prints the result (or each streamed chunk) as JSON. */
export async function callCommand(
  app: string,
  deployment: string,
  opts: TargetFlags & { method: string; session?: string; data?: string; stream?: boolean; timeout: number },
): Promise<void> {
  const target = resolveTarget(opts);
  const result = await callDeployment(
    target,
    app,
    deployment,
    {
      method: opts.method,
      stream: opts.stream ?? false,
      timeoutMs: opts.timeout,
      ...(opts.session === undefined ? {} : { sessionId: opts.session }),
      ...(opts.data === undefined ? {} : { data: opts.data }),
    },
    (chunk) => outPaced(JSON.stringify(chunk) ?? "null"),
  );
  if (!opts.stream) out(JSON.stringify(result, null, 2) ?? "null");
}

/** `tsserve delete <app>`. */
export async function deleteCommand(app: string, opts: TargetFlags): Promise<void> {
  await deleteApplication(resolveTarget(opts), app);
  out(`${app}: deleted (its replicas drain and stop)`);
}

/** `tsserve shutdown`: drains everything; waits for the local head to exit when it is ours. */
export async function shutdownCommand(opts: TargetFlags): Promise<void> {
  const target = resolveTarget(opts);
  const r = await shutdownCluster(target);
  if (r.headPid !== null && !r.headExited) {
    throw new Error(
      `the controller stopped but the head (pid ${r.headPid}) is still running; stop it with \`kill ${r.headPid}\``,
    );
  }
  out(`cluster at ${target.address} shut down${r.headPid !== null ? ` (head pid ${r.headPid} exited)` : ""}`);
}

/**
 * `tsserve agent`: runs the controller package's agent entry in the foreground (its own process,
 * so its replicas are its children), passing signals through and exiting with its code.
 */
export async function agentCommand(
  opts: TargetFlags & { nodeId?: string; replicaUser?: string },
): Promise<void> {
  const target = resolveTarget(opts);
  const args = ["--address", target.address, "--prefix", target.prefix];
  if (opts.nodeId !== undefined) args.push("--node-id", opts.nodeId);
  if (opts.replicaUser !== undefined) args.push("--replica-user", opts.replicaUser);
  // Own process group, so a terminal's Ctrl-C reaches the agent once (forwarded below) rather than
  // twice (a second SIGINT would cut its drain short); it still exits if this process dies.
  const child = spawn(process.execPath, [parentWatchNodeArg(), agentEntryPath(), ...args], {
    stdio: "inherit",
    detached: true,
  });
  const forward = (sig: NodeJS.Signals): void => void child.kill(sig);
  process.on("SIGINT", forward);
  process.on("SIGTERM", forward);
  const code = await new Promise<number>((resolve) => child.once("exit", (c) => resolve(c ?? 1)));
  // The agent already said why on stderr: pass its exit code on without another line.
  process.exit(code);
}
