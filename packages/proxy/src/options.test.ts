import { describe, expect, it } from "vitest";
import { resolveProxyOptions } from "./options.js";

describe("resolveProxyOptions", () => {
  it("fills in every default", () => {
    const o = resolveProxyOptions({ address: "nats://127.0.0.1:4222" });
    expect(o).toMatchObject({
      prefix: "tsserve",
      host: "127.0.0.1",
      port: 8000,
      maxBodyBytes: 1024 * 1024,
      requestTimeoutMs: 60_000,
      maxHeadersCount: 100,
      sessionHeader: "x-session-id",
      routeRefreshMs: 1000,
    });
  });

  it("names the bad field, the value and what is accepted", () => {
    expect(() => resolveProxyOptions({ address: "nats://x", port: 70000 })).toThrow(
      "proxy option port: expected an integer between 0 and 65535, got 70000",
    );
    expect(() => resolveProxyOptions({ address: "nats://x", sessionHeader: "bad header" })).toThrow(
      /sessionHeader/,
    );
    expect(() => resolveProxyOptions({})).toThrow(/proxy option address: expected a NATS URL/);
    expect(() => resolveProxyOptions({ address: "nats://x", log: { info: () => {} } as never })).toThrow(
      'proxy option log: expected a Logger such as createLogger("proxy") returns, got "object"',
    );
    expect(() => resolveProxyOptions({ address: "nats://x", prot: 1 } as never)).toThrow(
      /proxy option prot: unknown option; known options are client, metrics, address/,
    );
  });
});
