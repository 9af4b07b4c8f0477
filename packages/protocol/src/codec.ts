import { Packr } from "msgpackr";
import { ProtocolError } from "./errors.js";

// Plain maps and arrays only: record structures would need state shared between processes.
const packr = new Packr({ useRecords: false, mapsAsObjects: true, moreTypes: false });

/** Encodes one message body as msgpack. */
export function encode(value: unknown): Uint8Array {
  return packr.pack(value);
}

/** Decodes one msgpack message body; malformed bytes raise a ProtocolError (code BAD_REQUEST). */
export function decode(bytes: Uint8Array): unknown {
  if (bytes.length === 0) throw new ProtocolError("empty message body");
  try {
    return packr.unpack(bytes);
  } catch (cause) {
    throw new ProtocolError(
      `malformed msgpack message (${bytes.length} bytes): ${(cause as Error).message}`,
      {
        cause,
      },
    );
  }
}
