import type { RoutingRequest } from "../request-router.js";

const utf8 = new TextDecoder();

/**
 * The text a prefix-matching router matches for `request`, or null when it has none:
 *
 * 1. `handle.options({ prefixKey })`, when given;
 * 2. else the first argument when it is a string (`generate.remote("…prompt…")`);
 * 3. else field `field` of the first argument (`remote({ prompt })`): a string, or a chat
 *    `messages` array whose items are strings or `{ role, content }` (joined `role: content\n`, so
 *    a conversation that grows by appending messages keeps its earlier text as a prefix);
 * 4. an HTTP call on the JSON fast path carries `[bytes]`: the body is parsed for (2) and (3),
 *    which costs a JSON parse per routed call (use a `prefixKey`-setting ingress to avoid it).
 */
export function routingPrompt(request: RoutingRequest, field: string): string | null {
  if (typeof request.prefixKey === "string") return request.prefixKey;
  let first = request.args?.[0];
  if (first instanceof Uint8Array) {
    try {
      first = JSON.parse(utf8.decode(first)) as unknown;
    } catch {
      return null;
    }
  }
  if (typeof first === "string") return first;
  if (typeof first !== "object" || first === null) return null;
  return promptText((first as Record<string, unknown>)[field]);
}

function promptText(v: unknown): string | null {
  if (typeof v === "string") return v;
  if (!Array.isArray(v)) return null;
  let text = "";
  for (const m of v) {
    if (typeof m === "string") text += `${m}\n`;
    else if (typeof m === "object" && m !== null) {
      const { role, content } = m as { role?: unknown; content?: unknown };
      if (typeof content === "string") text += `${typeof role === "string" ? role : ""}: ${content}\n`;
    }
  }
  return text.length > 0 ? text : null;
}
