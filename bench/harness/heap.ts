import { setImmediate as yieldToLoop } from "node:timers/promises";
import v8 from "node:v8";
import vm from "node:vm";

let gcFn: (() => void) | undefined;

/**
 * A full garbage collection, available without `--expose-gc` on the command line: the flag is
 * set at run time and `gc` fetched from a fresh context (it is installed on contexts made after).
 */
function gc(): void {
  if (gcFn === undefined) {
    v8.setFlagsFromString("--expose-gc");
    gcFn = vm.runInNewContext("gc") as () => void;
  }
  gcFn();
}

/**
 * The JS heap in use after full collections, bytes: what the process still references. Collects
 * a few times with a turn of the event loop between, so finalizers and weak callbacks that free
 * more on the next cycle have run.
 */
export async function settledHeapBytes(): Promise<number> {
  for (let i = 0; i < 3; i++) {
    gc();
    await yieldToLoop();
  }
  return process.memoryUsage().heapUsed;
}
