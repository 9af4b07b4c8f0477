/**
 * 02 · chat — per-session history in `getSessionState()`, durable (decorator form).
 *
 * The history of a session lives in tsserve's session state, not in a Map of the class: the
 * runtime keeps one owner replica per session, runs its turns one at a time, hands the history
 * over when a deploy or a scale moves the session, and (`mode: "durable"`) writes it to the
 * deployment's JetStream KV bucket before each reply, so a `kill -9` of its replica loses no
 * answered turn. The session id comes from `handle.options({ sessionId })`, the HTTP header
 * `x-session-id` or `tsserve call --session`.
 */
import { bind, deployment, getReplicaContext, getSessionState } from "tsserve";

/** One answer: who served it, the session's history length and how the replica came to hold it. */
export interface ChatReply {
  replica: string;
  session: string;
  turns: number;
  /** "new" (first turn), "restored" (handed over on a move, or loaded from the KV bucket). */
  origin: string;
  reply: string;
}

@deployment({
  numReplicas: 4,
  maxOngoingRequests: 5,
  sessionState: { mode: "durable", ttlS: 3600 },
  shared: ["owner", "history"],
})
export class Chat {
  /** Appends `msg` to the caller's session history and answers with the history's length. */
  async reply(msg: string): Promise<ChatReply> {
    const state = getSessionState<string[]>();
    const history = [...(state.get() ?? []), String(msg)];
    state.set(history); // stored (durable: in the KV bucket) before this reply is sent
    // A real model would think here; a short pause makes concurrent sessions overlap.
    await new Promise((r) => setTimeout(r, 2));
    return {
      replica: getReplicaContext().replicaId,
      session: state.sessionId,
      turns: history.length,
      origin: state.origin,
      reply: `you said "${String(msg)}" (turn ${history.length} of this session)`,
    };
  }

  /** The session's messages so far (a shared read: runs beside the session's other reads). */
  history(): string[] {
    return getSessionState<string[]>().get() ?? [];
  }

  /** The replica that owns the caller's session now (a session call always runs on its owner). */
  owner(): string {
    return getReplicaContext().replicaId;
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
