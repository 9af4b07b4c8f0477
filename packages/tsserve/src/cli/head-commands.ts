import { relative } from "node:path";
import { ConfigError } from "@tsserve/protocol";
import { startDetachedHead } from "../head/detach.js";
import { startHead, type Head, type HeadOptions } from "../head/local-head.js";
import { resolveTarget, type TargetFlags } from "../head/target.js";
import { stateDirPath, type HeadRecord } from "../head/state-dir.js";
import { deployConfig } from "../ops/deploy.js";
import { grpcArgs, grpcForRun, grpcFromFlags, type GrpcFlags } from "./grpc-flags.js";
import { movedPortLines } from "./moved-ports.js";
import { oneLine } from "./report-error.js";
import { streamReplicaOutput } from "./run-output.js";

/** Flags of `start` and `run` as commander parses them. */
export interface HeadFlags extends TargetFlags, GrpcFlags {
  httpPort: number;
  httpHost: string;
  /** false with `--no-http`. */
  http: boolean;
  /** `--proxies N`: HTTP proxy processes sharing the port. */
  proxies: number;
  agents: number;
  natsPort: number;
  foreground?: boolean;
  dashboardPort: number;
  /** false with `--no-dashboard`. */
  dashboard: boolean;
  /** `--standby`: join --address as a standby head. */
  standby?: boolean;
  /** `--kv-replicas N`. */
  kvReplicas?: number;
}

const out = (line: string): void => void process.stdout.write(`${line}\n`);

function headOptions(flags: HeadFlags, grpc = grpcFromFlags(flags)): HeadOptions {
  if (grpc !== undefined && !flags.http) {
    throw new ConfigError("--grpc-port: the gRPC ingress runs in the proxy; drop --no-http to serve gRPC");
  }
  if (flags.proxies > 1 && !flags.http) {
    throw new ConfigError(`--proxies ${flags.proxies}: the proxies serve HTTP; drop --no-http or --proxies`);
  }
  return {
    ...(grpc === undefined ? {} : { grpc }),
    ...(flags.address === undefined ? {} : { address: flags.address }),
    ...(flags.prefix === undefined ? {} : { prefix: flags.prefix }),
    ...(flags.stateDir === undefined ? {} : { stateDir: flags.stateDir }),
    httpPort: flags.http ? flags.httpPort : null,
    httpHost: flags.httpHost,
    proxies: flags.proxies,
    agents: flags.agents,
    natsPort: flags.natsPort,
    dashboardPort: flags.dashboard ? flags.dashboardPort : null,
    ...(flags.standby ? { standby: true } : {}),
    ...(flags.kvReplicas === undefined ? {} : { kvReplicas: flags.kvReplicas }),
  };
}

/** The same flags again, for the detached `start --foreground` child. */
function foregroundArgs(flags: HeadFlags): string[] {
  const args = ["--http-port", String(flags.httpPort), "--http-host", flags.httpHost];
  args.push("--agents", String(flags.agents), "--nats-port", String(flags.natsPort));
  args.push("--proxies", String(flags.proxies));
  if (!flags.http) args.push("--no-http");
  if (!flags.dashboard) args.push("--no-dashboard");
  else args.push("--dashboard-port", String(flags.dashboardPort));
  if (flags.address !== undefined) args.push("--address", flags.address);
  if (flags.prefix !== undefined) args.push("--prefix", flags.prefix);
  args.push(...grpcArgs(flags));
  if (flags.standby) args.push("--standby");
  if (flags.kvReplicas !== undefined) args.push("--kv-replicas", String(flags.kvReplicas));
  return args;
}

/** A path relative to the cwd when it lies below it, else absolute: whichever a user can paste. */
function shown(path: string): string {
  const rel = relative(process.cwd(), path);
  return rel === "" ? "." : rel.startsWith("..") ? path : rel;
}

function printSummary(rec: HeadRecord, stateDir: string, flags: HeadFlags, extra: string[] = []): void {
  const dir = shown(stateDir);
  out(`tsserve head running (pid ${rec.pid})`);
  out(
    `  NATS address  ${rec.address}${rec.natsPid !== null ? ` (embedded nats-server, pid ${rec.natsPid})` : ""}`,
  );
  out(`  HTTP proxy    ${rec.httpUrl ?? "off"}`);
  if (rec.grpcAddress) out(`  gRPC ingress  ${rec.grpcAddress}`);
  out(
    `  dashboard     ${rec.dashboardUrl ?? "off"}${rec.dashboardUrl ? ` (cluster metrics: ${rec.dashboardUrl}/metrics)` : ""}`,
  );
  out(
    `  controller    pid ${rec.controllerPid ?? "-"}; agents: ${rec.agentPids.map((p) => `pid ${p}`).join(", ") || "none"}`,
  );
  out(`  state dir     ${dir} (address file: ${dir}/address)`);
  const asked = { natsPort: flags.natsPort, dashboardPort: flags.dashboard ? flags.dashboardPort : null };
  for (const line of movedPortLines(asked, rec, `${dir}/address`)) out(line);
  for (const line of extra) out(line);
}

/** Stays until Ctrl-C / SIGTERM or until the controller exits (`tsserve shutdown`), then stops all. */
async function holdHead(head: Head, beforeStop?: () => Promise<void>): Promise<void> {
  const why = await new Promise<string>((resolve) => {
    process.once("SIGINT", () => resolve("Ctrl-C"));
    process.once("SIGTERM", () => resolve("SIGTERM"));
    void head.controllerExited.then(() => resolve("the controller exited"));
  });
  out(`tsserve: ${why}; stopping the head`);
  await beforeStop?.();
  await head.stop();
  out("tsserve: head stopped");
}

/**
 * `tsserve start`: by default spawns a detached head and returns once it is healthy; with
 * `--foreground` this process is the head.
 */
export async function startCommand(flags: HeadFlags): Promise<void> {
  if (!flags.foreground) {
    const rec = await startDetachedHead(flags.stateDir, foregroundArgs(flags));
    printSummary(rec, stateDirPath(flags.stateDir), flags, [
      `  log           ${shown(rec.logFile)}`,
      "next: tsserve deploy serve.yaml · tsserve status · tsserve shutdown",
    ]);
    return;
  }
  const head = await startHead(headOptions(flags));
  printSummary(head.record, head.stateDir, flags, ["Ctrl-C stops the head"]);
  await holdHead(head);
}

/** `tsserve run FILE`: a foreground head plus a deploy; Ctrl-C shuts everything down. */
export async function runCommand(file: string, flags: HeadFlags): Promise<void> {
  const head = await startHead(headOptions(flags, grpcForRun(file, flags)));
  let stopOutput = async (): Promise<void> => undefined;
  try {
    printSummary(head.record, head.stateDir, flags);
    const target = resolveTarget({
      address: head.record.address,
      prefix: head.record.prefix,
      stateDir: head.stateDir,
    });
    stopOutput = await streamReplicaOutput(target);
    const { applications } = await deployConfig(target, file, {
      timeoutMs: 120_000,
      onProgress: (line) => out(`… ${line}`),
    });
    for (const app of applications) {
      const route =
        app.routePrefix !== null && head.record.httpUrl !== null
          ? ` at ${head.record.httpUrl}${app.routePrefix}`
          : "";
      out(`${app.name}: HEALTHY${route}`);
    }
    out("Ctrl-C stops everything");
  } catch (e) {
    process.stderr.write(`tsserve run: ${oneLine(e)}\n`);
    const detail = (e as { detail?: unknown }).detail;
    if (typeof detail === "string" && detail.length > 0) process.stderr.write(`${detail}\n`);
    await stopOutput();
    await head.stop();
    process.exit(1);
  }
  await holdHead(head, stopOutput);
}
