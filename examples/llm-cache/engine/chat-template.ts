import { encode } from "gpt-tokenizer/encoding/cl100k_base";

/** One chat message, as OpenAI-style chat APIs send them. */
export interface ChatMessage {
  role: "system" | "user" | "assistant" | "tool";
  content: string;
}

// cl100k's special tokens <|im_start|> and <|im_end|>, as ChatML frames each message.
const IM_START = 100264;
const IM_END = 100265;
const ROLE_TOKENS: Record<ChatMessage["role"], number[]> = {
  system: encode("system"),
  user: encode("user"),
  assistant: encode("assistant"),
  tool: encode("tool"),
};

/** Most message texts whose tokens are remembered; real engines re-tokenize, a simulation need not. */
const MEMO_LIMIT = 50_000;
const memo = new Map<string, number[]>();

/** Tokens of one text (memoized: a conversation re-sends its earlier messages every turn). */
export function tokensOf(text: string): number[] {
  let t = memo.get(text);
  if (t === undefined) {
    t = encode(text);
    if (memo.size >= MEMO_LIMIT) memo.delete(memo.keys().next().value!);
    memo.set(text, t);
  }
  return t;
}

/**
 * The prompt's tokens under a ChatML template: `<|im_start|>role\ncontent<|im_end|>` per message.
 * A conversation that grows by appending messages keeps its earlier tokens as a prefix, which is
 * what makes its KV cache reusable.
 */
export function renderChat(messages: readonly ChatMessage[]): number[] {
  const out: number[] = [];
  for (const m of messages) {
    out.push(IM_START, ...ROLE_TOKENS[m.role]);
    const content = tokensOf(m.content);
    for (let i = 0; i < content.length; i++) out.push(content[i]!);
    out.push(IM_END);
  }
  return out;
}
