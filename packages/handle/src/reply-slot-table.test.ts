import { describe, expect, it } from "vitest";
import { ReplySlotTable, seqOf } from "./reply-slot-table.js";

const slot = (seq: number) => ({ seq });

describe("ReplySlotTable", () => {
  it("finds each open exchange by number until it is deleted, and nothing else", () => {
    const t = new ReplySlotTable<{ seq: number }>();
    const a = slot(0);
    const b = slot(1);
    t.add(a);
    t.add(b);
    expect(t.get(0)).toBe(a);
    expect(t.get(1)).toBe(b);
    expect(t.get(64)).toBeUndefined(); // a's place, another number
    expect(t.get(-1)).toBeUndefined(); // an unreadable subject
    t.delete(a);
    t.delete(a); // twice is a no-op
    expect(t.get(0)).toBeUndefined();
    expect(t.size).toBe(1);
  });

  it("keeps a long-lived exchange whose place a later number wants, and grows past half full", () => {
    const t = new ReplySlotTable<{ seq: number }>();
    const stream = slot(3);
    t.add(stream);
    // 3 + 64 wants the stream's place in the first ring: it waits beside it.
    const later = slot(3 + 64);
    t.add(later);
    expect(t.get(3)).toBe(stream);
    expect(t.get(67)).toBe(later);
    // Hundreds more open at once: the ring grows, every one is still found.
    const many = Array.from({ length: 500 }, (_, i) => slot(1000 + i));
    for (const s of many) t.add(s);
    expect(t.size).toBe(502);
    for (const s of [stream, later, ...many]) expect(t.get(s.seq)).toBe(s);
    t.delete(later);
    expect(t.get(67)).toBeUndefined();
    expect(t.values()).toHaveLength(501);
    t.clear();
    expect(t.size).toBe(0);
    expect(t.get(3)).toBeUndefined();
  });
});

describe("seqOf", () => {
  it("reads the canonical number after the inbox, and refuses anything else", () => {
    const inbox = "_INBOX.abc";
    const at = inbox.length + 1;
    expect(seqOf(`${inbox}.0`, at)).toBe(0);
    expect(seqOf(`${inbox}.12345`, at)).toBe(12345);
    for (const bad of [
      `${inbox}.`,
      `${inbox}.007`,
      `${inbox}.1x`,
      `${inbox}.-1`,
      `${inbox}.1234567890123456`,
    ])
      expect(seqOf(bad, at)).toBe(-1);
  });
});
