/**
 * 02 · chat — per-session state in replica memory, kept sticky by ConsistentHash (decorator form).
 *
 * Each replica keeps the history of the sessions it serves in a Map. That only works if every turn
 * of a session reaches the same replica: the ConsistentHash router hashes the session id
 * (`handle.options({ sessionId })`, or the HTTP header `x-session-id`) onto a ring of replicas.
 */
import { bind, deployment, getReplicaContext, getRequestContext } from "tsserve";

/** One answer: who served it and how long this session's history is on that replica. */
export interface ChatReply {
  replica: string;
  session: string;
  turns: number;
  reply: string;
}

@deployment({
  numReplicas: 4,
  maxOngoingRequests: 5,
  requestRouter: { class: "ConsistentHash", kwargs: { numVirtualNodes: 100, numFallbackReplicas: 2 } },
})
export class Chat {
  private readonly history = new Map<string, string[]>();

  /** Appends `msg` to the caller's session history and answers with the history's length. */
  async reply(msg: string): Promise<ChatReply> {
    const session = getRequestContext()?.sessionId ?? "anonymous";
    const turns = this.history.get(session) ?? [];
    turns.push(String(msg));
    this.history.set(session, turns);
    // A real model would think here; a short pause makes concurrent sessions overlap.
    await new Promise((r) => setTimeout(r, 2));
    return {
      replica: getReplicaContext().replicaId,
      session,
      turns: turns.length,
      reply: `you said "${String(msg)}" (turn ${turns.length} of this session)`,
    };
  }

  /** Which replica answered; clients use it to warm their handle up (see client.ts). */
  ping(): string {
    return getReplicaContext().replicaId;
  }

  /** The HTTP entry point: `POST /chat` with a JSON string body (or `{ "message": "…" }`). */
  async __call__(input: unknown): Promise<ChatReply> {
    const msg = typeof input === "object" && input !== null && "message" in input ? input.message : input;
    return this.reply(typeof msg === "string" ? msg : JSON.stringify(msg ?? ""));
  }
}

// Decorated classes bind with the typed `bind()` (TypeScript types `Chat.bind` as Function#bind).
export const app = bind(Chat);
