import type { IncomingMessage } from "node:http";
import { RequestCancelledError } from "@tsserve/protocol";
import { bodyTooLargeError } from "./http-errors.js";

/**
 * The declared `content-length`, or undefined when absent or malformed (chunked uploads). A
 * declared length over the limit lets the proxy answer 413 before reading a single byte.
 */
export function declaredLength(req: IncomingMessage): number | undefined {
  const raw = req.headers["content-length"];
  if (raw === undefined) return undefined;
  const n = Number(raw);
  return Number.isSafeInteger(n) && n >= 0 ? n : undefined;
}

/**
 * Reads the whole request body, failing with a 413 HttpError as soon as it passes `limit` bytes
 * (reading stops there: the rest is never buffered), and with RequestCancelledError when the client
 * goes away first.
 */
export function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  const declared = declaredLength(req);
  if (declared !== undefined && declared > limit) return Promise.reject(bodyTooLargeError(limit, declared));
  if (req.readableEnded) return Promise.resolve(Buffer.alloc(0));
  return new Promise<Buffer>((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const cleanup = (): void => {
      req.off("data", onData);
      req.off("end", onEnd);
      req.off("error", onError);
      req.off("close", onClose);
    };
    const onData = (chunk: Buffer): void => {
      size += chunk.length;
      if (size > limit) {
        cleanup();
        // Stop pulling bytes off the socket; the caller answers 413 and closes the connection.
        req.pause();
        reject(bodyTooLargeError(limit));
        return;
      }
      chunks.push(chunk);
    };
    const onEnd = (): void => {
      cleanup();
      resolve(chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks, size));
    };
    const onError = (err: Error): void => {
      cleanup();
      reject(
        new RequestCancelledError(`client connection failed while sending the body: ${err.message}`, {
          cause: err,
        }),
      );
    };
    const onClose = (): void => {
      cleanup();
      reject(new RequestCancelledError("client disconnected before sending the whole body"));
    };
    req.on("data", onData);
    req.on("end", onEnd);
    req.on("error", onError);
    req.on("close", onClose);
  });
}
