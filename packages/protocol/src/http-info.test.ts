import { describe, expect, it } from "vitest";
import { encode } from "./codec.js";
import { decodeRequest, encodeRequest } from "./data-plane.js";
import { isServeError, ServeError } from "./errors.js";
import { httpResponse, isHttpResponse, RawHttpInfo, type HttpRequestInfo } from "./http-info.js";
import { errorFromWire, errorToWire } from "./wire-error.js";

const base = { requestId: "h1.1", method: "m", args: [1], sessionId: null, stream: false };
const http: HttpRequestInfo = { method: "POST", path: "/items", query: "a=1", headers: { "x-a": "1" } };

describe("HTTP info in the request body", () => {
  it("keeps the 6-field body when there is no HTTP info, and decodes it without an http field", () => {
    const bytes = encodeRequest(base);
    expect(decodeRequest(bytes)).toEqual(base);
    expect("http" in decodeRequest(bytes)).toBe(false);
  });

  it("round-trips HTTP info as a trailing field beside the flags", () => {
    const decoded = decodeRequest(encodeRequest({ ...base, http, acks: true }));
    expect(decoded.http).toMatchObject(http);
    expect(decoded.http?.headers).toEqual(http.headers);
    expect(decoded.acks).toBe(true);
    expect(decoded.args).toEqual([1]);
  });

  it("sends the proxy's raw header list as is; headers are lower-cased and joined on first read", () => {
    const raw = new RawHttpInfo("GET", "/", "q=1", ["Host", "a", "X-Tag", "one", "x-tag", "two"]);
    const decoded = decodeRequest(encodeRequest({ ...base, http: raw })).http!;
    expect(decoded).toBeInstanceOf(RawHttpInfo);
    expect((decoded as RawHttpInfo).rawHeaders).toEqual(raw.rawHeaders);
    expect(decoded.headers).toEqual({ host: "a", "x-tag": "one, two" });
    expect(JSON.parse(JSON.stringify(decoded))).toEqual({
      method: "GET",
      path: "/",
      query: "q=1",
      headers: { host: "a", "x-tag": "one, two" },
    });
  });

  it("rejects malformed or oversized HTTP info with BAD_REQUEST", () => {
    const bad = (h: unknown): string => {
      try {
        decodeRequest(encode([1, "r", "m", [], null, 0, h]));
        return "";
      } catch (e) {
        expect((e as { code: string }).code).toBe("BAD_REQUEST");
        return (e as Error).message;
      }
    };
    expect(bad(["GET", "/", ""])).toMatch(/4-element array/);
    expect(bad(["GET", "/", "", { a: "1" }])).toMatch(/list of header names and values/);
    expect(bad(["GET", "/", "", ["a"]])).toMatch(/list of header names and values/);
    expect(bad(["GET", "/", "", ["a", 1]])).toMatch(/rawHeaders\[1\] must be a header value/);
    expect(bad(["GET", "/", "", [7, "x"]])).toMatch(/rawHeaders\[0\] must be a header name/);
    expect(bad(["GET", "/", "", new Array(2002).fill("x")])).toMatch(/more than 1000 headers/);
    expect(bad(["GET", "/".repeat(20_000), "", []])).toMatch(/http.path is longer than/);
    expect(bad([7, "/", "", []])).toMatch(/http.method must be a string/);
    expect(bad(null)).toBe("");
  });
});

describe("httpResponse", () => {
  it("marks a plain value that survives the wire", () => {
    const r = httpResponse({ status: 201, headers: { location: "/x" }, body: { id: 1 } });
    expect(isHttpResponse(r)).toBe(true);
    expect(isHttpResponse(JSON.parse(JSON.stringify(r)))).toBe(true);
    expect(isHttpResponse({ status: 201 })).toBe(false);
    expect(() => httpResponse({ status: 99 })).toThrow(/status must be an integer 100-599/);
  });
});

describe("ServeError", () => {
  it("derives the gRPC code from the status and the status from the gRPC code", () => {
    expect(new ServeError("x", { status: 404 })).toMatchObject({
      status: 404,
      grpcCode: 5,
      code: "USER_CODE",
    });
    expect(new ServeError("x", { grpcCode: 8 })).toMatchObject({ status: 429, grpcCode: 8 });
    expect(new ServeError("x")).toMatchObject({ status: 500, grpcCode: 13 });
    expect(new ServeError("x", { status: 418 })).toMatchObject({ status: 418, grpcCode: 2 });
    expect(() => new ServeError("x", { status: 200 })).toThrow(/400-599/);
    expect(() => new ServeError("x", { grpcCode: 0 })).toThrow(/1-16/);
  });

  it("crosses the wire with status, gRPC code and data", () => {
    const back = errorFromWire(
      errorToWire(new ServeError("gone", { status: 410, grpcCode: 5, data: { id: 7 } }), true),
    );
    expect(isServeError(back)).toBe(true);
    expect(back).toMatchObject({
      name: "ServeError",
      message: "gone",
      status: 410,
      grpcCode: 5,
      data: { id: 7 },
    });
  });
});
