import { describe, expect, it } from "vitest";
import {
  BackPressureError,
  isBackPressureError,
  isReplicaDiedError,
  isUserCodeError,
  ReplicaDiedError,
  UserCodeError,
} from "./errors.js";
import { errorFromWire, errorToWire } from "./wire-error.js";

describe("errorToWire / errorFromWire", () => {
  it("preserves a user error's name and message as UserCodeError", () => {
    const wire = errorToWire(new TypeError("bad input"), true);
    expect(wire).toMatchObject({ code: "USER_CODE", message: "bad input", retryable: false });
    const back = errorFromWire(wire);
    expect(isUserCodeError(back)).toBe(true);
    expect(back).toBeInstanceOf(UserCodeError);
    expect((back as UserCodeError).remoteName).toBe("TypeError");
    expect(back.message).toBe("bad input");
  });

  it("keeps typed errors typed, with data", () => {
    const back = errorFromWire(errorToWire(new BackPressureError(5, 5, "chat/Chat")));
    expect(isBackPressureError(back)).toBe(true);
    expect((back as BackPressureError).maxQueuedRequests).toBe(5);
    expect(back.retryable).toBe(true);
    expect(isReplicaDiedError(errorFromWire(errorToWire(new ReplicaDiedError("gone"))))).toBe(true);
  });

  it("turns unknown errors into INTERNAL and malformed wire values into INTERNAL", () => {
    expect(errorToWire(new RangeError("x")).code).toBe("INTERNAL");
    expect(errorFromWire({ nope: 1 }).code).toBe("INTERNAL");
    expect(errorFromWire("string").message).toContain("malformed error");
  });

  it("omits stacks unless debugging is on", () => {
    expect(errorToWire(new Error("x")).stack).toBeUndefined();
  });
});
