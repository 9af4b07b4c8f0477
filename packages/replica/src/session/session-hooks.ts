import { decode, encode } from "@tsserve/protocol/internal";
import { EXPORT_SESSION_HOOK, IMPORT_SESSION_HOOK } from "../method-table.js";
import type { LogLine } from "../reply-writer.js";
import { shortId } from "./session-types.js";

/**
 * The class's optional hand-off hooks (Orleans' dehydrate / rehydrate): `exportSession(sessionId)`
 * returns plain data (or undefined) for state the class keeps itself, called on the old owner
 * when the session leaves it; `importSession(sessionId, data)` gets that data on the new owner
 * before the session's next call runs. A hook that throws is logged and the hand-off goes on
 * with the `getSessionState()` value alone: a bug in a cache's export must not strand a session.
 */
export async function exportSession(
  instance: object,
  sessionId: string,
  log: LogLine,
): Promise<Uint8Array | null> {
  const hook = (instance as Record<string, unknown>)[EXPORT_SESSION_HOOK];
  if (typeof hook !== "function") return null;
  try {
    const data: unknown = await (hook as (id: string) => unknown).call(instance, sessionId);
    return data === undefined ? null : encode(data, `exportSession(${shortId(sessionId)}) result`);
  } catch (e) {
    log(`exportSession(${shortId(sessionId)}) failed, handing off without it: ${(e as Error).message}`);
    return null;
  }
}

/** Calls `importSession(sessionId, data)` with what the previous owner's export returned. */
export async function importSession(
  instance: object,
  sessionId: string,
  bytes: Uint8Array,
  log: LogLine,
): Promise<void> {
  const hook = (instance as Record<string, unknown>)[IMPORT_SESSION_HOOK];
  if (typeof hook !== "function") return;
  try {
    await (hook as (id: string, data: unknown) => unknown).call(instance, sessionId, decode(bytes));
  } catch (e) {
    log(`importSession(${shortId(sessionId)}) failed: ${(e as Error).message}`);
  }
}
