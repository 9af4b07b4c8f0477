import { describe, expect, it } from "vitest";
import { parseArgs } from "./args.js";

describe("parseArgs", () => {
  it("defaults to every suite, full mode, local servers and bench/results", () => {
    const a = parseArgs([], "/b");
    expect(a).toMatchObject({
      quick: false,
      suites: null,
      address: null,
      outDir: "/b/results",
      readme: true,
    });
  });

  it("reads --quick, --suite lists, --address and --out in both spellings", () => {
    const a = parseArgs(
      ["--quick", "--suite", "overhead,balance", "--address=nats://10.0.0.5:4222", "--out", "/tmp/x"],
      "/b",
    );
    expect(a.quick).toBe(true);
    expect(a.suites).toEqual(["overhead", "balance"]);
    expect(a.address).toBe("nats://10.0.0.5:4222");
    expect(a.outDir).toBe("/tmp/x");
  });

  it("rejects unknown flags, missing values and non-NATS addresses with the usage", () => {
    expect(() => parseArgs(["--fast"], "/b")).toThrow(/unknown argument "--fast"[\s\S]*usage/);
    expect(() => parseArgs(["--suite"], "/b")).toThrow(/--suite needs a value/);
    expect(() => parseArgs(["--address", "http://x"], "/b")).toThrow(/not a NATS URL/);
  });
});
