import { spawn, type ChildProcess } from "node:child_process";
import { createInterface } from "node:readline";

/** A server child process of a suite, started with tsx; `ports` is what it printed when ready. */
export interface ChildServer extends AsyncDisposable {
  readonly pid: number;
  readonly ports: Record<string, number>;
  stop(): Promise<void>;
}

/**
 * Starts `node --import tsx <file> ...args` and waits (bounded) for its one JSON line
 * `{ ready: true, ports }` on stdout. stderr is passed through, so a crash says why.
 */
export async function startChildServer(
  file: string,
  args: string[],
  cwd: string,
  timeoutMs = 30_000,
): Promise<ChildServer> {
  const child: ChildProcess = spawn(process.execPath, ["--import", "tsx", file, ...args], {
    cwd,
    stdio: ["ignore", "pipe", "inherit"],
  });
  const exited = new Promise<void>((r) => child.once("exit", () => r()));
  const stop = async (): Promise<void> => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill("SIGTERM");
    const t = setTimeout(() => child.kill("SIGKILL"), 5000);
    await exited;
    clearTimeout(t);
  };
  try {
    const ports = await new Promise<Record<string, number>>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`${file} ${args[0]} not ready within ${timeoutMs} ms`)),
        timeoutMs,
      );
      void exited.then(() => reject(new Error(`${file} ${args[0]} exited before it was ready`)));
      createInterface({ input: child.stdout! }).once("line", (line) => {
        clearTimeout(timer);
        try {
          resolve((JSON.parse(line) as { ports: Record<string, number> }).ports);
        } catch (e) {
          reject(e);
        }
      });
    });
    return { pid: child.pid!, ports, stop, [Symbol.asyncDispose]: stop };
  } catch (e) {
    await stop();
    throw e;
  }
}
