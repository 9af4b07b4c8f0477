import {
  HandoffStatus,
  decode,
  decodeHandoffReply,
  encodeHandoffRequest,
  sessionHandoffSubject,
  type SessionRecord,
} from "@tsserve/protocol/internal";
import { SessionHandoffTimeoutError } from "@tsserve/protocol";
import { importSession } from "./session-hooks.js";
import type { LoadKind } from "./session-metrics.js";
import { SlotStatus, type SessionSlot } from "./session-slot.js";
import { isRevisionConflict, type StoredRecord } from "./session-store.js";
import { shortId, sleep, type SessionDeps } from "./session-types.js";

/** One hand-off request waits at most this long; the whole acquisition has `handoffTimeoutMs`. */
const ASK_TIMEOUT_MS = 2000;
/** Pause before asking again a replica that is itself acquiring, or after a store error. */
const RETRY_MS = 20;

type Asked = HandoffStatus | "gone" | "silent";

/** Asks the recorded owner to release the session: its answer, "gone" (no responders) or "silent". */
async function ask(d: SessionDeps, owner: string, sessionId: string, timeoutMs: number): Promise<Asked> {
  try {
    const msg = await d.nc.request(
      sessionHandoffSubject(d.prefix, d.app, d.deployment, owner),
      encodeHandoffRequest({ sessionId, to: d.me }),
      { timeout: Math.max(10, Math.min(ASK_TIMEOUT_MS, timeoutMs)) },
    );
    return decodeHandoffReply(msg.data);
  } catch (e) {
    // nats.js: "503" = no subscriber (the owner's process is gone); anything else is a timeout.
    return (e as { code?: unknown }).code === "503" ? "gone" : "silent";
  }
}

/** What this replica writes when it becomes the owner; `state` is kept only in durable mode. */
function ownedRecord(d: SessionDeps, sessionId: string, state: Uint8Array | null): SessionRecord {
  return {
    id: sessionId,
    owner: d.me,
    generation: d.generation,
    parked: false,
    state: d.settings.mode === "durable" ? state : null,
    exported: null,
    at: Date.now(),
  };
}

/**
 * Claims `stored` for this replica by compare-and-set and loads what it carries. Returns false
 * when another writer got there first (the caller reads again).
 */
async function claim(d: SessionDeps, slot: SessionSlot, stored: StoredRecord): Promise<boolean> {
  const r = stored.record;
  const durable = d.settings.mode === "durable";
  // Memory mode keeps state in the record only while parked: a taken-over record has none.
  const state = r.parked || durable ? r.state : null;
  let revision: number;
  try {
    revision = await d.store.update(ownedRecord(d, slot.sessionId, state), stored.revision);
  } catch (e) {
    if (isRevisionConflict(e)) return false;
    throw e;
  }
  let kind: LoadKind;
  if (r.parked) kind = "parked";
  else if (durable) kind = "durable";
  else kind = "lost";
  slot.origin = kind === "lost" ? "lost" : "restored";
  if (state !== null) {
    slot.bytes = state;
    slot.value = decode(state);
  }
  slot.revision = revision;
  if (r.parked && r.exported !== null) await importSession(d.instance, slot.sessionId, r.exported, d.log);
  d.metrics.load(kind);
  if (kind === "lost") {
    d.log(
      `session ${shortId(slot.sessionId)}: previous owner ${r.owner} is gone; its in-memory state is lost`,
    );
  }
  return true;
}

/**
 * Makes this replica the session's owner (docs/internals.md "Session state"): read the record;
 * none → create it (a new session); parked → claim it; owned by another replica → ask it to hand
 * the session off (it finishes the session's running calls, exports and parks the record), then
 * claim (`offered`: the record its previous owner parked for this replica, claimed unread); owner gone (no responders, or silent and out of the RUNNING set) or not holding it →
 * take it over by compare-and-set (durable: its stored state; memory: lost). Every write names
 * the revision read, so two acquirers never both win. Bounded by `handoffTimeoutMs`: then the
 * waiting calls fail with SessionHandoffTimeoutError (retryable; they did not run).
 */
export async function acquire(d: SessionDeps, slot: SessionSlot, offered?: StoredRecord): Promise<void> {
  const started = Date.now();
  const deadline = started + d.settings.handoffTimeoutMs;
  const id = slot.sessionId;
  let lastProblem = "";
  let handedOff = false;
  let owned = false;
  d.handoffs++;
  try {
    for (;;) {
      const left = deadline - Date.now();
      if (left <= 0) break;
      let stored: StoredRecord | null;
      try {
        // An offer carries the parked record as written: claimed by compare-and-set on its
        // revision without a read first (a stale offer fails the write, then the record is read).
        stored = offered ?? (await d.store.read(id));
        offered = undefined;
        if (stored === null) {
          try {
            slot.revision = await d.store.create(ownedRecord(d, id, null));
            slot.origin = "new";
            d.metrics.load("new");
            slot.status = SlotStatus.OWNED;
            return;
          } catch (e) {
            if (isRevisionConflict(e)) continue; // created by another replica meanwhile
            throw e;
          }
        }
        const owner = stored.record.owner;
        if (stored.record.parked || owner === "" || owner === d.me) {
          if ((owned = await claim(d, slot, stored))) break;
          continue;
        }
        const answer = await ask(d, owner, id, left);
        if (answer === HandoffStatus.RELEASED) {
          handedOff = true;
          continue; // parked now: read it again and claim
        }
        if (answer === HandoffStatus.BUSY) {
          await sleep(RETRY_MS);
          continue;
        }
        if (answer === "silent" && d.view.isLive(owner)) {
          lastProblem = `owner ${owner} did not answer`;
          continue;
        }
        // Gone, silent and out of the RUNNING set, or alive without it: take it over.
        if ((owned = await claim(d, slot, stored))) break;
      } catch (e) {
        lastProblem = (e as Error).message;
        await sleep(RETRY_MS);
      }
    }
    if (!owned) {
      d.metrics.handoff("in", "failed", Date.now() - started);
      throw new SessionHandoffTimeoutError(
        `session ${shortId(id)} did not reach replica ${d.me} within handoffTimeoutS (${d.settings.handoffTimeoutMs / 1000} s)${lastProblem ? `: ${lastProblem}` : ""}; the call did not run`,
        { data: { sessionId: id, replica: d.me } },
      );
    }
    slot.status = SlotStatus.OWNED;
    const ms = Date.now() - started;
    if (handedOff || slot.origin !== "new") {
      d.metrics.handoff("in", "ok", ms);
      d.log(
        `session ${shortId(id)}: now owned here (${slot.origin}${handedOff ? ", handed off" : ""}) in ${ms} ms`,
      );
    }
  } finally {
    d.handoffs--;
  }
}
