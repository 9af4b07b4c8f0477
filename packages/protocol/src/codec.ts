import { Packr } from "msgpackr";
import { diagnoseEncodeFailure } from "./encode-diagnosis.js";
import { BadRequestError, ProtocolError } from "./errors.js";

// Plain maps and arrays only: record structures would need state shared between processes.
const packr = new Packr({ useRecords: false, mapsAsObjects: true, moreTypes: false });

/**
 * Encodes one message body as msgpack. A value that cannot be encoded (cyclic, nested deeper than
 * the encoder's stack allows, a symbol, a BigInt over 64 bits, a throwing getter) raises a
 * BadRequestError (code BAD_REQUEST) that says which, never a bare RangeError; `what` names the
 * value in its message.
 */
export function encode(value: unknown, what = "message"): Uint8Array {
  try {
    return packr.pack(value);
  } catch (cause) {
    const d = diagnoseEncodeFailure(value, cause);
    throw new BadRequestError(`${what} cannot be encoded: ${d.detail}`, {
      cause,
      data: { reason: d.reason },
    });
  }
}

/** Decodes one msgpack message body; malformed bytes raise a ProtocolError (code BAD_REQUEST). */
export function decode(bytes: Uint8Array): unknown {
  if (bytes.length === 0) throw new ProtocolError("empty message body");
  try {
    return packr.unpack(bytes);
  } catch (cause) {
    const tooDeep = cause instanceof RangeError && /call stack/i.test(cause.message);
    throw new ProtocolError(
      tooDeep
        ? `message of ${bytes.length} bytes is nested too deeply to decode`
        : `malformed msgpack message (${bytes.length} bytes): ${(cause as Error).message}`,
      { cause },
    );
  }
}
