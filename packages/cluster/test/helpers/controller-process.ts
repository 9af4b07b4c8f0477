// Spawns an extra controller process (beside the one a local cluster runs) and stops it by pid.
import { spawn, type ChildProcess } from "node:child_process";
import { controllerEntryPath } from "@tsserve/controller/internal";

/** A controller process with its stderr kept for assertions. */
export interface ControllerProcess extends AsyncDisposable {
  readonly child: ChildProcess;
  readonly pid: number;
  stderr(): string;
  /** SIGKILL and wait for the exit. */
  kill(): Promise<void>;
}

export function spawnController(address: string, prefix: string, controllerId: string): ControllerProcess {
  const child = spawn(
    process.execPath,
    [controllerEntryPath(), "--address", address, "--prefix", prefix, "--controller-id", controllerId],
    { stdio: ["ignore", "ignore", "pipe"] },
  );
  let err = "";
  child.stderr?.on("data", (d: Buffer) => {
    err = (err + d.toString()).slice(-50_000);
  });
  const exited = new Promise<void>((r) => child.once("exit", () => r()));
  const kill = async (): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
    await exited;
  };
  return {
    child,
    pid: child.pid ?? -1,
    stderr: () => err,
    kill,
    [Symbol.asyncDispose]: kill,
  };
}
