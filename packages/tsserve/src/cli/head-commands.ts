import { relative } from "node:path";
import { startDetachedHead } from "../head/detach.js";
import { startHead, type Head, type HeadOptions } from "../head/local-head.js";
import { resolveTarget, type TargetFlags } from "../head/target.js";
import type { HeadRecord } from "../head/state-dir.js";
import { deployConfig } from "../ops/deploy.js";
import { oneLine } from "./report-error.js";

/** Flags of `start` and `run` as commander parses them. */
export interface HeadFlags extends TargetFlags {
  httpPort: number;
  httpHost: string;
  /** false with `--no-http`. */
  http: boolean;
  agents: number;
  natsPort: number;
  foreground?: boolean;
  /** `--standby`: join --address as a standby head. */
  standby?: boolean;
  /** `--kv-replicas N`. */
  kvReplicas?: number;
}

const out = (line: string): void => void process.stdout.write(`${line}\n`);

function headOptions(flags: HeadFlags): HeadOptions {
  return {
    ...(flags.address === undefined ? {} : { address: flags.address }),
    ...(flags.prefix === undefined ? {} : { prefix: flags.prefix }),
    ...(flags.stateDir === undefined ? {} : { stateDir: flags.stateDir }),
    httpPort: flags.http ? flags.httpPort : null,
    httpHost: flags.httpHost,
    agents: flags.agents,
    natsPort: flags.natsPort,
    ...(flags.standby ? { standby: true } : {}),
    ...(flags.kvReplicas === undefined ? {} : { kvReplicas: flags.kvReplicas }),
  };
}

/** The same flags again, for the detached `start --foreground` child. */
function foregroundArgs(flags: HeadFlags): string[] {
  const args = ["--http-port", String(flags.httpPort), "--http-host", flags.httpHost];
  args.push("--agents", String(flags.agents), "--nats-port", String(flags.natsPort));
  if (!flags.http) args.push("--no-http");
  if (flags.address !== undefined) args.push("--address", flags.address);
  if (flags.prefix !== undefined) args.push("--prefix", flags.prefix);
  if (flags.standby) args.push("--standby");
  if (flags.kvReplicas !== undefined) args.push("--kv-replicas", String(flags.kvReplicas));
  return args;
}

/** A path relative to the cwd when it lies below it, else absolute: whichever a user can paste. */
function shown(path: string): string {
  const rel = relative(process.cwd(), path);
  return rel === "" ? "." : rel.startsWith("..") ? path : rel;
}

function printSummary(rec: HeadRecord, stateDir: string, extra: string[] = []): void {
  const dir = shown(stateDir);
  out(`tsserve head running (pid ${rec.pid})`);
  out(
    `  NATS address  ${rec.address}${rec.natsPid !== null ? ` (embedded nats-server, pid ${rec.natsPid})` : ""}`,
  );
  out(`  HTTP proxy    ${rec.httpUrl ?? "off"}`);
  out(
    `  controller    pid ${rec.controllerPid ?? "-"}; agents: ${rec.agentPids.map((p) => `pid ${p}`).join(", ") || "none"}`,
  );
  out(`  state dir     ${dir} (address file: ${dir}/address)`);
  for (const line of extra) out(line);
}

/** Stays until Ctrl-C / SIGTERM or until the controller exits (`tsserve shutdown`), then stops all. */
async function holdHead(head: Head): Promise<void> {
  const why = await new Promise<string>((resolve) => {
    process.once("SIGINT", () => resolve("Ctrl-C"));
    process.once("SIGTERM", () => resolve("SIGTERM"));
    void head.controllerExited.then(() => resolve("the controller exited"));
  });
  out(`tsserve: ${why}; stopping the head`);
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
    const target = resolveTarget({ stateDir: flags.stateDir, address: rec.address });
    printSummary(rec, target.stateDir, [
      `  log           ${shown(rec.logFile)}`,
      "next: tsserve deploy serve.yaml · tsserve status · tsserve shutdown",
    ]);
    return;
  }
  const head = await startHead(headOptions(flags));
  printSummary(head.record, head.stateDir, ["Ctrl-C stops the head"]);
  await holdHead(head);
}

/** `tsserve run FILE`: a foreground head plus a deploy; Ctrl-C shuts everything down. */
export async function runCommand(file: string, flags: HeadFlags): Promise<void> {
  const head = await startHead(headOptions(flags));
  try {
    printSummary(head.record, head.stateDir);
    const target = resolveTarget({
      address: head.record.address,
      prefix: head.record.prefix,
      stateDir: head.stateDir,
    });
    const { applications } = await deployConfig(target, file, { timeoutMs: 120_000 });
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
    await head.stop();
    process.exit(1);
  }
  await holdHead(head);
}
