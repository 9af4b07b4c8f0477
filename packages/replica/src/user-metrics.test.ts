import { describe, expect, it } from "vitest";
import { processRegistry } from "@tsserve/protocol/internal";
import { isConfigError } from "@tsserve/protocol";
import { Counter, Gauge, Histogram } from "./user-metrics.js";

describe("user metrics (ray.serve.metrics)", () => {
  it("record with declared and default tags into the process registry", async () => {
    const c = new Counter("um_test_calls_total", { description: "calls", tagKeys: ["model"] });
    c.setDefaultTags({ model: "base" });
    c.inc();
    c.inc(2, { model: "big" });
    new Gauge("um_test_depth").set(3);
    new Histogram("um_test_sizes", { boundaries: [1, 10] }).observe(4);
    const text = await processRegistry().metrics();
    expect(text).toMatch(/^um_test_calls_total\{app="",deployment="",replica="",model="base"\} 1$/m);
    expect(text).toMatch(/^um_test_calls_total\{[^}]*model="big"\} 2$/m);
    expect(text).toMatch(/^um_test_depth\{[^}]*\} 3$/m);
    expect(text).toMatch(/^um_test_sizes_bucket\{(?=[^}]*le="10")[^}]*\} 1$/m);
    // Creating the same metric again (a second replica instance in one process) reuses it.
    new Counter("um_test_calls_total", { tagKeys: ["model"] }).inc(1, { model: "big" });
    expect(await processRegistry().metrics()).toMatch(/^um_test_calls_total\{[^}]*model="big"\} 3$/m);
  });

  it("rejects undeclared tags and the automatic tag names with a ConfigError", () => {
    const c = new Counter("um_test_strict_total", { tagKeys: ["a"] });
    let err: unknown;
    try {
      c.inc(1, { b: "x" });
    } catch (e) {
      err = e;
    }
    expect(isConfigError(err)).toBe(true);
    expect((err as Error).message).toMatch(/unknown tag "b"; declared tag keys: a/);
    expect(() => new Gauge("um_test_bad", { tagKeys: ["replica"] })).toThrow(/set automatically/);
  });
});
