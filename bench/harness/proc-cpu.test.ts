import { describe, expect, it } from "vitest";
import { cpuSeconds, parseStatTicks, startCpuWindow } from "./proc-cpu.js";

describe("proc-cpu", () => {
  it("parses utime + stime after a command name with spaces and parentheses", () => {
    const stat = "1234 (node (worker) x) S 1 2 3 4 5 6 7 8 9 10 150 25 0 0 20 0 1 0";
    expect(parseStatTicks(stat)).toBe(175);
    expect(() => parseStatTicks("garbage")).toThrow(/not a \/proc/);
  });

  it("charges a busy loop of this process to the client group", () => {
    const w = startCpuWindow({ client: [process.pid], nobody: [] });
    // Spin until the kernel says we used 150 ms of CPU (a busy shared box may give us little wall
    // time), bounded at 10 s; /proc must agree within its 10 ms tick.
    const start = process.cpuUsage();
    const deadline = Date.now() + 10_000;
    let x = 0;
    while (Date.now() < deadline) {
      for (let i = 0; i < 10_000; i++) x += Math.sqrt(x + 1);
      const u = process.cpuUsage(start);
      if (u.user + u.system >= 150_000) break;
    }
    const used = w.stop();
    const truth = process.cpuUsage(start);
    expect(x).toBeGreaterThan(0);
    expect(used["client"]).toBeGreaterThanOrEqual(0.13);
    expect(used["client"]).toBeLessThanOrEqual((truth.user + truth.system) / 1e6 + 0.03);
    expect(used["nobody"]).toBeNull();
  });

  it("reads null for a pid that does not exist", () => {
    expect(cpuSeconds(2 ** 22 + 12345)).toBeNull();
  });
});
