import type { NatsConnection } from "nats";
import type { ResolvedSessionState } from "@tsserve/protocol/internal";
import type { LogLine } from "../reply-writer.js";
import type { OwnershipView } from "./ownership-view.js";
import type { SessionMetrics } from "./session-metrics.js";
import type { SessionSlot } from "./session-slot.js";
import type { SessionStore } from "./session-store.js";

/** Where a session released by this replica went, so late calls follow it instead of pulling it back. */
export interface MovedSession {
  to: string;
  /** Epoch ms after which the entry is ignored (the ring has settled by then). */
  until: number;
}

/** How long late calls of a released session are forwarded to where it went. */
export const MOVED_FORWARD_MS = 5000;

/** What the acquire, release and call paths of one replica's sessions share. */
export interface SessionDeps {
  readonly nc: NatsConnection;
  readonly prefix: string;
  readonly app: string;
  readonly deployment: string;
  /** This replica's id and fencing generation: written into every record it owns. */
  readonly me: string;
  readonly generation: number;
  readonly settings: ResolvedSessionState;
  readonly store: SessionStore;
  readonly view: OwnershipView;
  readonly metrics: SessionMetrics;
  /** The deployment instance (its optional exportSession / importSession hooks). */
  readonly instance: object;
  readonly log: LogLine;
  readonly sessions: Map<string, SessionSlot>;
  readonly moved: Map<string, MovedSession>;
  /** Hand-offs to or from this replica in progress (heartbeat, metrics). */
  handoffs: number;
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** A session id short enough for a log line. */
export const shortId = (id: string): string => JSON.stringify(id.length > 80 ? `${id.slice(0, 77)}...` : id);
