import { describe, expect, it } from "vitest";
import { normalizeHeaderName, sessionIdReader } from "./session-header.js";

describe("session header", () => {
  const read = sessionIdReader("x-session-id");

  it("matches the name in any case, with - and _ treated as equal", () => {
    expect(read(["X-Session-Id", "u1"])).toBe("u1");
    expect(read(["x_session_id", "u2"])).toBe("u2");
    expect(read(["X_Session-ID", "u3"])).toBe("u3");
  });

  it("returns null when absent or empty, and skips an empty first occurrence", () => {
    expect(read(["content-type", "application/json"])).toBeNull();
    expect(read(["x-session-id", "  "])).toBeNull();
    expect(read(["x-session-id", "", "x_session_id", "u4"])).toBe("u4");
  });

  it("supports a configured header such as x-correlation-id", () => {
    const corr = sessionIdReader("X_Correlation_Id");
    expect(corr(["x-correlation-id", " abc "])).toBe("abc");
    expect(corr(["x-session-id", "u1"])).toBeNull();
    expect(normalizeHeaderName("X_Correlation_Id")).toBe("x-correlation-id");
  });
});
