/**
 * A child process a test started, watched the one way every fixture here watches its processes:
 * stderr kept (a tail, for failure messages), an exit promise, and a kill that waits for the exit.
 * `await using agent = processFixture(spawn(...))` kills it by PID when the block ends.
 */
import type { ChildProcess } from "node:child_process";

/** A watched child process. */
export interface ProcessFixture extends AsyncDisposable {
  readonly child: ChildProcess;
  /** The process id (-1 when spawning failed). */
  readonly pid: number;
  /** Resolves with the exit code once the process has exited and its stdio is closed. */
  readonly exited: Promise<number | null>;
  /** The last `stderrChars` characters it wrote to stderr (when stderr is a pipe). */
  stderr(): string;
  /** Sends `signal` (SIGKILL after 5 s) and waits for the exit; nothing if it has exited. @default "SIGKILL" */
  kill(signal?: NodeJS.Signals): Promise<void>;
}

/** Watches `child`; spawn it with stderr `"pipe"` to keep its stderr. */
export function processFixture(child: ChildProcess, o: { stderrChars?: number } = {}): ProcessFixture {
  const limit = o.stderrChars ?? 20_000;
  let err = "";
  child.stderr?.on("data", (d: Buffer) => {
    err = (err + d.toString()).slice(-limit);
  });
  // "close", not "exit": stderr is read to its end before a test looks at it.
  const exited = new Promise<number | null>((r) => child.once("close", (code) => r(code)));
  const kill = async (signal: NodeJS.Signals = "SIGKILL"): Promise<void> => {
    if (child.exitCode !== null || child.signalCode !== null) {
      await exited;
      return;
    }
    child.kill(signal);
    const backstop = setTimeout(() => child.kill("SIGKILL"), 5000);
    await exited;
    clearTimeout(backstop);
  };
  return {
    child,
    pid: child.pid ?? -1,
    exited,
    stderr: () => err,
    kill,
    [Symbol.asyncDispose]: () => kill(),
  };
}
