import type { ChatMessage } from "../../examples/llm-cache/engine/chat-template.js";
import { Zipf } from "../harness/zipf.js";

/** One call a workload wants made, and what to do with the answer. */
export interface LlmCall {
  messages: ChatMessage[];
  sessionId: string | null;
  /** The answer came back: the conversation grows by it. */
  done(answer: string): void;
}

/** A workload: the next call to make when an arrival is due. */
export interface Workload {
  readonly name: string;
  next(): LlmCall;
}

/** Shape of the traffic; sizes in (approximate) tokens. */
export interface WorkloadShape {
  tenants: number;
  /** Zipf exponent of tenant popularity. */
  tenantZipf: number;
  systemTokens: number;
  userTokens: number;
  /** Turns (or agent steps) before a conversation starts over as a new one. */
  turns: number;
  /** Unique tag per bench row: no row reuses another's cached prefixes. */
  tag: string;
  random: () => number;
}

// A fixed vocabulary of pronounceable words; seeded picks make English-like text that tokenizes
// to about 2 tokens per word with cl100k.
const SYLLABLES = [
  "ka",
  "lo",
  "mi",
  "ter",
  "von",
  "sa",
  "ri",
  "den",
  "pol",
  "mar",
  "tu",
  "gen",
  "bra",
  "chi",
  "el",
  "os",
];
function words(random: () => number, tokens: number): string {
  const out: string[] = [];
  for (let i = 0; i < Math.ceil(tokens / 2); i++) {
    const n = 1 + Math.floor(random() * 3);
    let w = "";
    for (let j = 0; j < n; j++) w += SYLLABLES[Math.floor(random() * SYLLABLES.length)];
    out.push(w);
  }
  return out.join(" ");
}

interface Conversation {
  id: string;
  tenant: number;
  history: ChatMessage[];
  turn: number;
  busy: boolean;
}

/**
 * Tenants (Zipf popularity) with long system prompts shared by all their conversations; each
 * conversation re-sends its whole history every turn and starts over after `turns`. `sessionIds`
 * false makes it the agent-loop workload: tool-calling loops whose calls carry no session id.
 * `hotShare` > 0 sends that share of calls to one hot session (its calls may overlap).
 */
export function chatWorkload(
  name: string,
  shape: WorkloadShape,
  opts: { sessionIds: boolean; hotShare?: number; role?: ChatMessage["role"] },
): Workload {
  const { random, tag } = shape;
  const systems = Array.from(
    { length: shape.tenants },
    (_, t) => `[${tag}] tenant ${t}: ${words(random, shape.systemTokens)}`,
  );
  const zipf = new Zipf(shape.tenants, shape.tenantZipf, random);
  const idle: Conversation[][] = systems.map(() => []);
  let nextId = 0;
  const fresh = (tenant: number): Conversation => ({
    id: `${tag}-c${nextId++}`,
    tenant,
    history: [{ role: "system", content: systems[tenant]! }],
    turn: 0,
    busy: false,
  });
  const hot = fresh(0);
  const role = opts.role ?? "user";
  const callOf = (c: Conversation, overlap: boolean): LlmCall => {
    const message: ChatMessage = {
      role,
      content: `${c.id} step ${c.turn}: ${words(random, shape.userTokens)}`,
    };
    const messages = [...c.history, message];
    c.busy = true;
    return {
      messages,
      sessionId: opts.sessionIds ? c.id : null,
      done: (answer) => {
        c.history.push(message, { role: "assistant", content: answer });
        c.turn++;
        c.busy = false;
        if (overlap) {
          if (c.turn >= shape.turns * 4) c.history.splice(1); // the hot session: a long, bounded chat
          return;
        }
        if (c.turn < shape.turns) idle[c.tenant]!.push(c);
        else idle[c.tenant]!.push(fresh(c.tenant));
      },
    };
  };
  return {
    name,
    next(): LlmCall {
      if (opts.hotShare !== undefined && random() < opts.hotShare) return callOf(hot, true);
      const t = zipf.next();
      // A waiting conversation of this tenant takes its next turn, else a new user starts one.
      const c = idle[t]!.shift() ?? fresh(t);
      return callOf(c, false);
    },
  };
}
