import { isTsserveError, isUserCodeError } from "@tsserve/protocol";

/** Set to "1" to print stack traces instead of one-line errors. */
export const DEBUG_ENV = "TSSERVE_DEBUG";

/**
 * Prints an error as one line on stderr (`tsserve <command>: message`) and returns the exit code.
 * Stack traces are for TSSERVE_DEBUG=1 only: a user who mistyped a flag needs the fix, not frames.
 */
export function reportError(command: string, e: unknown, env: NodeJS.ProcessEnv = process.env): number {
  if (env[DEBUG_ENV] === "1" && e instanceof Error) {
    process.stderr.write(`tsserve ${command}: ${e.stack ?? e.message}\n`);
    return 1;
  }
  process.stderr.write(`tsserve ${command}: ${oneLine(e)}\n`);
  // Some errors carry lines worth showing as they are (a failed replica's stderr tail).
  const detail = (e as { detail?: unknown } | null)?.detail;
  if (typeof detail === "string" && detail.length > 0) process.stderr.write(`${detail}\n`);
  return 1;
}

/** The error's message flattened to one line, with the remote error's name for user-code failures. */
export function oneLine(e: unknown): string {
  let msg: string;
  if (isUserCodeError(e)) msg = `the deployment threw ${e.remoteName}: ${e.message}`;
  else if (isTsserveError(e)) msg = e.message;
  else if (e instanceof Error) msg = `${e.name === "Error" ? "" : `${e.name}: `}${e.message}`;
  else msg = String(e);
  return msg.replace(/\s*\n\s*/g, " ").trim();
}
