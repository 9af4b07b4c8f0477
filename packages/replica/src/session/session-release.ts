import type { Msg } from "nats";
import {
  HandoffStatus,
  decodeHandoffRequest,
  encodeHandoffOffer,
  encodeHandoffReply,
  sessionHandoffSubject,
} from "@tsserve/protocol/internal";
import { exportSession } from "./session-hooks.js";
import { SlotStatus, type SessionSlot } from "./session-slot.js";
import { isRevisionConflict } from "./session-store.js";
import { MOVED_FORWARD_MS, shortId, type SessionDeps } from "./session-types.js";

/**
 * Releases a session this replica owns: new calls go to `to` from now on (undefined: a drain,
 * they wait for the next owner), the queued and running ones finish here, then the class's
 * export and the state are written into the record as parked (compare-and-set on the revision
 * this replica holds) and the session is dropped locally. Returns false when the record was no
 * longer this replica's (another replica took it over): nothing was written. A session already
 * being released answers that release's outcome.
 */
export function release(d: SessionDeps, slot: SessionSlot, to: string | undefined): Promise<boolean> {
  if (slot.status === SlotStatus.RELEASING && slot.released !== undefined) return slot.released;
  slot.status = SlotStatus.RELEASING;
  slot.releasingTo = to;
  slot.released = releaseOwned(d, slot, to);
  return slot.released;
}

async function releaseOwned(d: SessionDeps, slot: SessionSlot, to: string | undefined): Promise<boolean> {
  const started = Date.now();
  if (to !== undefined) d.moved.set(slot.sessionId, { to, until: started + MOVED_FORWARD_MS });
  d.handoffs++;
  try {
    await slot.whenIdle();
    await slot.writes.catch(() => undefined);
    const exported = await exportSession(d.instance, slot.sessionId, d.log);
    const record = {
      id: slot.sessionId,
      owner: "",
      generation: 0,
      parked: true,
      state: slot.bytes,
      exported,
      at: Date.now(),
    };
    try {
      slot.parkedAs = { record, revision: await d.store.update(record, slot.revision) };
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
  // Acquiring it itself: ask again. Being released already (to the ring's new owner, or parked
  // at drain): answered when it is parked, so the asker claims it at once instead of polling.
  if (slot.status === SlotStatus.ACQUIRING || (slot.status === SlotStatus.RELEASING && !slot.released))
    return reply(HandoffStatus.BUSY);
  release(d, slot, slot.status === SlotStatus.OWNED ? req.to : slot.releasingTo).then(
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
  // Releases under way (hand-offs, moves to the ring's new owners) are waited for too: the
  // connection closes after this, and a record left owned by this replica would be taken over
  // as if it had crashed (memory mode: lost).
  const held = [...d.sessions.values()].filter(
    (s) => s.status === SlotStatus.OWNED || s.released !== undefined,
  );
  await Promise.all(
    held.map((s) =>
      release(d, s, undefined).catch((e: unknown) =>
        d.log(`session ${shortId(s.sessionId)}: not parked: ${(e as Error).message}`),
      ),
    ),
  );
}

/**
 * After a change of the RUNNING set: hands every session this replica owns whose owner on the new
 * ring is another replica to it at once, without waiting for that replica's first call to ask
 * (a scale-up, a drain, a rolling update move many sessions at a time, and the new owner would
 * acquire them one call slot at a time), then offers it to that replica, which claims the parked
 * record in the background; calls still reaching this replica follow the session there.
 */
export function handOffMoved(d: SessionDeps, ownerOf: (sessionId: string) => string | undefined): void {
  for (const slot of [...d.sessions.values()]) {
    if (slot.status !== SlotStatus.OWNED) continue;
    const owner = ownerOf(slot.sessionId);
    if (owner === undefined || owner === d.me) continue;
    const id = slot.sessionId;
    release(d, slot, owner).then(
      (ok) => {
        // Parked: tell the new owner, which claims it now rather than on the session's next call.
        if (ok) d.nc.publish(sessionHandoffSubject(d.prefix, d.app, d.deployment, owner), offerOf(slot));
      },
      (e: unknown) => d.log(`session ${shortId(id)}: hand-off to ${owner} failed: ${(e as Error).message}`),
    );
  }
}

/** Records up to this size travel in the offer (one KV read saved); larger ones are read. */
const MAX_OFFER_BYTES = 64 * 1024;

function offerOf(slot: SessionSlot): Uint8Array {
  const p = slot.parkedAs;
  const size = (p?.record.state?.length ?? 0) + (p?.record.exported?.length ?? 0);
  if (p === undefined || size > MAX_OFFER_BYTES)
    return encodeHandoffOffer({ sessionId: slot.sessionId, revision: 0, state: null, exported: null });
  return encodeHandoffOffer({
    sessionId: slot.sessionId,
    revision: p.revision,
    state: p.record.state,
    exported: p.record.exported,
  });
}

/**
 * TTL (`sessionState.ttlS`): drops sessions no call used for that long, deleting their records
 * by compare-and-set (a record another replica owns by now is left alone). In durable mode the
 * bucket's `max_age` (= ttlS) counts from a record's last write, so a session still in use whose
 * record is half a TTL old is written again (`refresh`): calls that only read never let the
 * record of a live session expire under its owner. The sweep runs every ≤ ttl/4, so a record is
 * rewritten before it is ¾ of a TTL old.
 */
export async function sweepIdle(
  d: SessionDeps,
  now: number,
  refresh: (slot: SessionSlot) => Promise<void>,
): Promise<void> {
  const ttl = d.settings.ttlMs;
  if (ttl <= 0) return;
  for (const slot of [...d.sessions.values()]) {
    if (slot.status !== SlotStatus.OWNED || slot.busy) continue;
    if (now - slot.lastUsed < ttl) {
      if (d.settings.mode === "durable" && now - slot.storedAt >= ttl / 2) await refresh(slot);
      continue;
    }
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
