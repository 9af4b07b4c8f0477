import { describe, expect, it } from "vitest";
import {
  BackPressureError,
  DeploymentNotFoundError,
  MethodNotFoundError,
  ProtocolError,
  RequestTimeoutError,
  TsserveError,
  UserCodeError,
} from "@tsserve/protocol";
import { bodyTooLargeError, errorBody, statusForError, tooManyHeadersError } from "./http-errors.js";

describe("statusForError", () => {
  it("maps tsserve errors to their HTTP status", () => {
    expect(statusForError(new BackPressureError(3, 2))).toBe(503);
    expect(statusForError(new RequestTimeoutError("slow"))).toBe(504);
    expect(statusForError(new UserCodeError("boom", "TypeError"))).toBe(500);
    expect(statusForError(new MethodNotFoundError("no such method"))).toBe(404);
    expect(statusForError(new DeploymentNotFoundError("no such deployment"))).toBe(404);
    expect(statusForError(new ProtocolError("bad"))).toBe(400);
    expect(statusForError(bodyTooLargeError(10, 20))).toBe(413);
    expect(statusForError(tooManyHeadersError(100))).toBe(431);
  });

  it("maps errors by code, so copies from another package instance map too", () => {
    const foreign = Object.assign(new Error("queue full"), { code: "BACK_PRESSURE" });
    expect(statusForError(foreign)).toBe(503);
  });

  it("answers 500 for anything else", () => {
    expect(statusForError(new Error("x"))).toBe(500);
    expect(statusForError("a string")).toBe(500);
    expect(statusForError(new TsserveError("INTERNAL", "x"))).toBe(500);
  });
});

describe("errorBody", () => {
  it("carries code, name and message", () => {
    expect(errorBody(new UserCodeError("boom", "RangeError"))).toEqual({
      error: { code: "USER_CODE", name: "UserCodeError", remoteName: "RangeError", message: "boom" },
    });
    expect(errorBody(bodyTooLargeError(10, 20)).error).toMatchObject({
      code: "PAYLOAD_TOO_LARGE",
      name: "PayloadTooLargeError",
    });
    expect(errorBody(bodyTooLargeError(10, 20)).error.message).toContain("20 bytes, limit is 10 bytes");
  });

  it("adds the stack only when debugging is on (TSSERVE_DEBUG=1)", () => {
    const saved = process.env["TSSERVE_DEBUG"];
    try {
      process.env["TSSERVE_DEBUG"] = "1";
      expect(errorBody(new UserCodeError("boom", "RangeError")).error.stack).toContain("UserCodeError: boom");
      delete process.env["TSSERVE_DEBUG"];
      expect(errorBody(new UserCodeError("boom", "RangeError")).error.stack).toBeUndefined();
    } finally {
      if (saved === undefined) delete process.env["TSSERVE_DEBUG"];
      else process.env["TSSERVE_DEBUG"] = saved;
    }
  });

  it("turns unknown throws into INTERNAL", () => {
    expect(errorBody(new RangeError("r"))).toEqual({
      error: { code: "INTERNAL", name: "RangeError", message: "r" },
    });
    expect(errorBody(42)).toEqual({ error: { code: "INTERNAL", name: "Error", message: "42" } });
  });
});
