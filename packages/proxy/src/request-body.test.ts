import type { IncomingMessage } from "node:http";
import { Readable } from "node:stream";
import { describe, expect, it } from "vitest";
import { readBody } from "./request-body.js";

// A readable with the one IncomingMessage field readBody looks at.
function fakeRequest(chunks: string[], headers: Record<string, string> = {}): IncomingMessage {
  return Object.assign(Readable.from(chunks.map((c) => Buffer.from(c))), {
    headers,
  }) as unknown as IncomingMessage;
}

describe("readBody", () => {
  it("collects every chunk", async () => {
    const body = await readBody(fakeRequest(['{"a":', "1}"]), 100);
    expect(body.toString()).toBe('{"a":1}');
  });

  it("rejects with 413 at once when content-length is over the limit", async () => {
    await expect(readBody(fakeRequest(["x"], { "content-length": "5000" }), 100)).rejects.toMatchObject({
      status: 413,
      code: "PAYLOAD_TOO_LARGE",
    });
  });

  it("rejects with 413 as soon as streamed bytes pass the limit", async () => {
    const chunks = Array.from({ length: 50 }, () => "0123456789");
    await expect(readBody(fakeRequest(chunks), 100)).rejects.toMatchObject({ status: 413 });
  });

  it("reports a client that goes away mid-body as cancelled", async () => {
    const stream = new Readable({ read() {} });
    Object.assign(stream, { headers: {} });
    const p = readBody(stream as unknown as IncomingMessage, 100);
    stream.push("partial");
    stream.destroy();
    await expect(p).rejects.toMatchObject({ code: "CANCELLED" });
  });
});
