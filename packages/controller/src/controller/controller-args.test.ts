import { describe, expect, it } from "vitest";
import { parseControllerArgs } from "./controller-args.js";

describe("parseControllerArgs", () => {
  it("reads flags, then the environment", () => {
    expect(
      parseControllerArgs(["--address", "nats://h:1", "--prefix=p", "--controller-id", "c1"], {}),
    ).toEqual({
      address: "nats://h:1",
      prefix: "p",
      controllerId: "c1",
    });
    expect(parseControllerArgs([], { TSSERVE_ADDRESS: "nats://e:2", TSSERVE_PREFIX: "q" })).toEqual({
      address: "nats://e:2",
      prefix: "q",
    });
  });

  it("names bad arguments", () => {
    expect(() => parseControllerArgs(["--bogus"], {})).toThrow(/unknown argument "--bogus"/);
    expect(() => parseControllerArgs([], {})).toThrow(/no NATS address/);
  });
});
