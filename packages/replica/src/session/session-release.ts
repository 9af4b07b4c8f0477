import type { Msg } from "nats";
import { HandoffStatus, decodeHandoffRequest, encodeHandoffReply } from "@tsserve/protocol/internal";
import { exportSession } from "./session-hooks.js";
import { SlotStatus, type SessionSlot } from "./session-slot.js";
import { isRevisionConflict } from "./session-store.js";
import { MOVED_FORWARD_MS, shortId, type SessionDeps } from "./session-types.js";

/**
 * Releases a session this replica owns: new calls go to `to` from now on (undefined: a drain,
 * they wait for the next owner), the queued and running ones finish here, then the class's
 * export and the state are written into the record as parked (compare-and-set on the revision
 * this replica holds) and the session is dropped locally. Returns false when the record was no
 * longer this replica's (another replica took it over): nothing was written.
 */
export async function release(d: SessionDeps, slot: SessionSlot, to: string | undefined): Promise<boolean> {
  const started = Date.now();
  slot.status = SlotStatus.RELEASING;
  slot.releasingTo = to;
  if (to !== undefined) d.moved.set(slot.sessionId, { to, until: started + MOVED_FORWARD_MS });
  d.handoffs++;
  try {
    await slot.whenIdle();
    await slot.writes.catch(() => undefined);
    const exported = await exportSession(d.instance, slot.sessionId, d.log);
    try {
      await d.store.update(
        {
          id: slot.sessionId,
          owner: "",
          generation: 0,
          parked: true,
          state: slot.bytes,
          exported,
          at: Date.now(),
        },
        slot.revision,
      );
    } catch (e) {
      d.metrics.handoff("out", "failed", Date.now() - started);
      if (isRevisionConflict(e)) {
        d.metrics.refusedWrite("ownership-lost");
        d.log(`session ${shortId(slot.sessionId)}: not parked, another replica owns it already`);
        return false;
      }
      throw e;
    } finally {
      if (d.sessions.get(slot.sessionId) === slot) d.sessions.delete(slot.sessionId);
    }
    const ms = Date.now() - started;
    d.metrics.handoff("out", "ok", ms);
    d.log(
      `session ${shortId(slot.sessionId)}: ${to === undefined ? "parked" : `handed off to ${to}`} in ${ms} ms`,
    );
    return true;
  } finally {
    d.handoffs--;
  }
}

/** Subscription callback of `shand.<app>.<deployment>.<me>`: another replica asks for a session. */
export function onHandoffRequest(d: SessionDeps, msg: Msg): void {
  let req;
  try {
    req = decodeHandoffRequest(msg.data);
  } catch {
    return; // not from a replica of ours; nobody to tell
  }
  const reply = (s: HandoffStatus): void => {
    if (msg.reply) msg.respond(encodeHandoffReply(s));
  };
  const slot = d.sessions.get(req.sessionId);
  if (slot === undefined) return reply(HandoffStatus.NOT_HELD);
  if (slot.status !== SlotStatus.OWNED) return reply(HandoffStatus.BUSY);
  release(d, slot, req.to).then(
    (ok) => reply(ok ? HandoffStatus.RELEASED : HandoffStatus.NOT_HELD),
    (e: unknown) => {
      d.log(`session ${shortId(req.sessionId)}: hand-off to ${req.to} failed: ${(e as Error).message}`);
      reply(HandoffStatus.NOT_HELD);
    },
  );
}

/**
 * At drain, after the last call ended: parks every session this replica owns, so the next owner
 * imports it from the record (memory mode included). Failures are logged: a session that cannot
 * be parked is lost like a crash would lose it.
 */
export async function parkAll(d: SessionDeps): Promise<void> {
  const owned = [...d.sessions.values()].filter((s) => s.status === SlotStatus.OWNED);
  await Promise.all(
    owned.map((s) =>
      release(d, s, undefined).catch((e: unknown) =>
        d.log(`session ${shortId(s.sessionId)}: not parked: ${(e as Error).message}`),
      ),
    ),
  );
}

/**
 * TTL (`sessionState.ttlS`): drops sessions no call used for that long, deleting their records
 * by compare-and-set (a record another replica owns by now is left alone).
 */
export async function sweepIdle(d: SessionDeps, now: number): Promise<void> {
  const ttl = d.settings.ttlMs;
  if (ttl <= 0) return;
  for (const slot of [...d.sessions.values()]) {
    if (slot.status !== SlotStatus.OWNED || slot.busy || now - slot.lastUsed < ttl) continue;
    slot.status = SlotStatus.RELEASING;
    d.sessions.delete(slot.sessionId);
    try {
      await slot.writes.catch(() => undefined);
      await d.store.remove(slot.sessionId, slot.revision);
    } catch (e) {
      if (!isRevisionConflict(e))
        d.log(`session ${shortId(slot.sessionId)}: expired, record not deleted: ${(e as Error).message}`);
    }
  }
}
